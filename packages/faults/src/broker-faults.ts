import { ROOT_CONTEXT, SpanKind, SpanStatusCode, propagation, trace } from '@opentelemetry/api';
import type { Message, Producer, ProducerBatch, ProducerRecord } from 'kafkajs';
import { ATTR, SPAN } from '@ca/contracts';
import { tracer } from '@ca/telemetry';
import type { Faults } from './fault-registry';
import { FAULT } from './fault-set';

/** The error an injected publish failure throws; kafkajs would throw a KafkaJSError (retriable) here. */
export class InjectedPublishFailure extends Error {
  readonly retriable = true;
  constructor() {
    super(`injected fault ${FAULT.brokerPublishFailure}: the produce request was not sent`);
    this.name = 'InjectedPublishFailure';
  }
}

/**
 * The producer handed to the outbox relay, with `broker.publish_failure` in front of send and
 * sendBatch: with that share a produce request fails as a whole before it leaves the process, as
 * a broker outage or a lost leader would (kafkajs gives up after its own retries). The relay then
 * does what it does for a real failure: marks its producer spans as errors, gives the rows back
 * and backs off. Each hit message's trace gets a `fault.injected` span under its producer span
 * (the relay's spans are not active during the call; their context travels in the headers).
 */
export function withPublishFaults(producer: Producer, faults: Faults, random: () => number): Producer {
  const fail = (messages: Message[]): never => {
    for (const m of messages) markInTrace(m.headers);
    throw new InjectedPublishFailure();
  };
  return {
    ...producer,
    send: async (record: ProducerRecord) => {
      if (faults.rolls(FAULT.brokerPublishFailure, random)) fail(record.messages);
      return producer.send(record); // eslint-disable-line no-restricted-syntax -- the decorated producer is the relay's own
    },
    sendBatch: async (batch: ProducerBatch) => {
      if (faults.rolls(FAULT.brokerPublishFailure, random)) fail((batch.topicMessages ?? []).flatMap((t) => t.messages));
      return producer.sendBatch(batch); // eslint-disable-line no-restricted-syntax -- the decorated producer is the relay's own
    },
  };
}

function markInTrace(headers: Message['headers']): void {
  const carrier: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (typeof v === 'string' || Buffer.isBuffer(v)) carrier[k] = v.toString();
  const parent = propagation.extract(ROOT_CONTEXT, carrier);
  if (!trace.getSpanContext(parent)) return;
  const span = tracer.startSpan(SPAN.faultInjected, {
    kind: SpanKind.INTERNAL,
    attributes: { [ATTR.faultInjected]: FAULT.brokerPublishFailure, 'error.type': 'InjectedPublishFailure' },
  }, parent);
  span.setStatus({ code: SpanStatusCode.ERROR, message: 'injected publish failure' });
  span.end();
}
