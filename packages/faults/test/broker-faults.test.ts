import { test } from 'node:test';
import assert from 'node:assert/strict';
import { context, trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Producer, ProducerBatch } from 'kafkajs';
import { currentTraceHeaders, tracer } from '@ca/telemetry';
import { createFaults, InjectedPublishFailure, withPublishFaults } from '../src';

const exporter = new InMemorySpanExporter();
new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).register();

/** A producer that records what it was asked to publish (the relay's side of the contract). */
function recordingProducer() {
  const batches: ProducerBatch[] = [];
  const producer = {
    events: { CONNECT: 'producer.connect' },
    on: () => () => undefined,
    connect: async () => undefined,
    sendBatch: async (batch: ProducerBatch) => { batches.push(batch); return []; },
    send: async () => [],
  } as unknown as Producer;
  return { producer, batches };
}

test('broker.publish_failure fails the whole produce request before it leaves, and marks each message\'s trace', async () => {
  exporter.reset();
  const { producer, batches } = recordingProducer();
  const faults = createFaults({ 'broker.publish_failure': 1 });
  const decorated = withPublishFaults(producer, faults, () => 0.5);
  const rowSpan = tracer.startSpan('send t.send.email');
  const headers = currentTraceHeaders(trace.setSpan(context.active(), rowSpan));
  const batch = { topicMessages: [{ topic: 't.send.email', messages: [{ key: 'k', value: 'v', headers }, { key: 'k2', value: 'v2' }] }] };

  await assert.rejects(decorated.sendBatch(batch), InjectedPublishFailure);
  assert.equal(batches.length, 0, 'nothing reached the broker');
  const marks = exporter.getFinishedSpans().filter((s) => s.name === 'fault.injected');
  assert.equal(marks.length, 1, 'one mark, for the message that carries a trace');
  assert.equal(marks[0]!.attributes['ca.fault.injected'], 'broker.publish_failure');
  assert.equal(marks[0]!.parentSpanContext?.spanId, rowSpan.spanContext().spanId, 'under the message\'s producer span');
  assert.equal(marks[0]!.status.code, 2);
  rowSpan.end();

  faults.clear();
  await decorated.sendBatch(batch);
  assert.equal(batches.length, 1, 'off: the request goes through unchanged');
  assert.equal(batches[0], batch);
});

test('a share fails that share of requests (random from the caller)', async () => {
  const { producer, batches } = recordingProducer();
  const rolls = [0.1, 0.9, 0.29, 0.3];
  const decorated = withPublishFaults(producer, createFaults({ 'broker.publish_failure': 0.3 }), () => rolls.shift()!);
  const outcomes: string[] = [];
  for (let i = 0; i < 4; i++) outcomes.push(await decorated.send({ topic: 't', messages: [{ value: 'x' }] }).then(() => 'sent', () => 'failed'));
  assert.deepEqual(outcomes, ['failed', 'sent', 'failed', 'sent']);
  assert.equal(batches.length, 0, 'send is not sendBatch');
});
