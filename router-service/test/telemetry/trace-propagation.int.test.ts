import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { DEFAULT_INSTRUMENTATIONS } from '@ca/telemetry/src/instrumentations';
import { startTelemetry } from '@ca/telemetry/start';

// The SDK must patch express, pg and kafkajs before they load, as main.ts does; the harness (which
// loads them) is required only after this.
process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS = DEFAULT_INSTRUMENTATIONS;
const exporter = new InMemorySpanExporter();
const telemetry = startTelemetry({
  serviceName: 'router-service', serviceVersion: 'test', environment: 'test', otlpEndpoint: '',
  spanExporter: exporter, batch: { maxQueueSize: 4096, maxExportBatchSize: 512, scheduledDelayMillis: 50 },
});
const { readRecords, useBroker } = require('../support/kafka') as typeof import('../support/kafka');
const { defer, postMessage, SAMPLES, startRouter } = require('../support/router-harness') as typeof import('../support/router-harness');
const { HEADERS, SPAN } = require('@ca/contracts') as typeof import('@ca/contracts');

const brokers = useBroker();
const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

test('one trace from the client request to the Kafka record: HTTP, manual spans, pg and the kafkajs producer span', async (t) => {
  defer(t, () => telemetry.shutdown());
  const h = await startRouter(t, { brokers: brokers() });
  const res = await postMessage(h.url, SAMPLES.sms, { traceparent: `00-${CLIENT_TRACE}-00f067aa0ba902b7-01` });
  assert.equal(res.status, 202);
  assert.equal(res.body.traceId, CLIENT_TRACE);
  assert.match(res.headers.get('traceresponse') ?? '', new RegExp(`^00-${CLIENT_TRACE}-[0-9a-f]{16}-01$`));

  h.service.relay.start();
  const [record] = await readRecords(brokers(), [h.topics.send('sms')], 1);
  assert.ok(record);
  await h.service.relay.stop();
  await telemetry.forceFlush();

  const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === CLIENT_TRACE);
  const byName = (name: string) => spans.find((s) => s.name === name);
  const server = spans.find((s) => s.kind === SpanKind.SERVER);
  assert.ok(server, 'http server span');
  for (const name of [SPAN.validate, SPAN.dedup, SPAN.route]) assert.ok(byName(name), `${name} span`);
  assert.ok(spans.some((s) => s.instrumentationScope.name.includes('pg')), 'pg spans under the request');
  assert.ok(spans.some((s) => s.instrumentationScope.name.includes('express')), 'express span');
  assert.equal(byName(SPAN.dedup)?.attributes['ca.dedup.outcome'], 'accepted');

  const producer = spans.find((s) => s.kind === SpanKind.PRODUCER);
  assert.ok(producer, 'the relay\'s producer span in the request trace');
  const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
  assert.equal(parentOf(producer), byName(SPAN.route)?.spanContext().spanId, 'published in the context the row was enqueued in');
  // The record carries the producer span's context, so delivery-service continues this trace.
  assert.equal(record.headers[HEADERS.traceparent], `00-${CLIENT_TRACE}-${producer.spanContext().spanId}-01`);

  const attributes = JSON.stringify(spans.map((s) => s.attributes));
  assert.equal(attributes.includes(SAMPLES.sms.to), false, 'no unmasked recipient in span attributes');
  assert.equal(attributes.includes(SAMPLES.sms.body), false, 'no body in span attributes');
});
