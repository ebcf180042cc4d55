import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { DEFAULT_INSTRUMENTATIONS } from '@ca/telemetry/src/instrumentations';
import { startTelemetry } from '@ca/telemetry/start';

// The SDK must patch http, express, pg and kafkajs before they load, as main.ts does; the harness
// (which loads them) is required only after this (as in test/telemetry/trace-propagation).
process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS = DEFAULT_INSTRUMENTATIONS;
const exporter = new InMemorySpanExporter();
const telemetry = startTelemetry({
  serviceName: 'router-service', serviceVersion: 'test', environment: 'test', otlpEndpoint: '',
  spanExporter: exporter, batch: { maxQueueSize: 4096, maxExportBatchSize: 512, scheduledDelayMillis: 50 },
});
const { useBroker } = require('../support/kafka') as typeof import('../support/kafka');
const { AUTH, SAMPLES, TEST_TENANT_ID, call, defer, postMessage, startRouter } = require('../support/router-harness') as typeof import('../support/router-harness');
const { createKafka } = require('@ca/kafka') as typeof import('@ca/kafka');
const { waitFor } = require('@ca/testing') as typeof import('@ca/testing');
const { ATTR, SPAN } = require('@ca/contracts') as typeof import('@ca/contracts');

const brokers = useBroker();
const CLIENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
/** The span delivery-service's receipt handling would have published the status event from. */
const STATUS_PARENT = 'b7ad6b7169203331';

test('the webhook POST is a CLIENT span in the message trace: method, URL without its query, status code, endpoint and try; the receiver gets the trace context', async (t) => {
  defer(t, () => telemetry.shutdown());
  const got: Array<{ headers: IncomingHttpHeaders; url: string }> = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      got.push({ headers: req.headers, url: req.url ?? '' });
      res.writeHead(204).end();
    });
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;

  const kafka = createKafka({ brokers: brokers().split(','), clientId: 'router-webhook-span-test' });
  const h = await startRouter(t, {
    brokers: brokers(),
    kafka,
    settings: { webhooks: { allowPrivate: false, allowedHosts: ['127.0.0.1'], timeoutMs: 2000, backoff: { baseMs: 200, maxMs: 1000 }, disableAfterMs: 60_000 } },
  });
  h.service.start();
  // A token in the query: it must not reach a span (url.full is origin + path).
  const created = await call(h.url, 'POST', '/v1/webhooks', AUTH, { url: `${base}?token=query-secret-42`, events: ['message.delivered'] });
  assert.equal(created.status, 201, JSON.stringify(created.body));

  const accepted = await postMessage(h.url, SAMPLES.email, { traceparent: `00-${CLIENT_TRACE}-00f067aa0ba902b7-01` });
  assert.equal(accepted.status, 202);
  const messageId = String(accepted.body.id);
  // delivery-service's status event for the message, published in its trace (as from a receipt span):
  // sent inside that context, since the kafkajs instrumentation writes the record's traceparent itself.
  await h.producer.connect();
  const at = new Date().toISOString();
  const receiptSpan = trace.setSpanContext(ROOT_CONTEXT, { traceId: CLIENT_TRACE, spanId: STATUS_PARENT, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  await context.with(receiptSpan, () => h.producer.send({
    topic: h.topics.status, acks: -1,
    messages: [{ key: messageId, value: JSON.stringify({ v: 1, id: messageId, tenantId: TEST_TENANT_ID, status: 'delivered', version: 5, deliveryAttempts: 1, lastAttemptedAt: at, at }) }],
  }));

  await waitFor('the webhook POST', async () => got.length >= 1, 20_000);
  const deliverSpan = await waitFor('the webhook.deliver span exported', async () => {
    await telemetry.forceFlush();
    return exporter.getFinishedSpans().find((s) => s.name === SPAN.webhookDeliver) ?? null;
  });

  assert.equal(deliverSpan.kind, SpanKind.CLIENT);
  assert.equal(deliverSpan.spanContext().traceId, CLIENT_TRACE, 'in the message trace');
  const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === CLIENT_TRACE);
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  const ancestors: string[] = [];
  for (let p = deliverSpan.parentSpanContext?.spanId; p; p = byId.get(p)?.parentSpanContext?.spanId) ancestors.push(p);
  assert.ok(ancestors.includes(STATUS_PARENT), `descends from the status event's span (ancestors ${ancestors.join(' → ')})`);

  assert.deepEqual(
    { ...deliverSpan.attributes },
    {
      'http.request.method': 'POST', 'url.full': base, 'server.address': '127.0.0.1', 'server.port': Number(new URL(base).port),
      [ATTR.messageId]: messageId, [ATTR.tenantId]: TEST_TENANT_ID, [ATTR.webhookEndpointId]: created.body.id,
      [ATTR.webhookEventType]: 'message.delivered', [ATTR.webhookAttempt]: 1, 'http.response.status_code': 204,
    },
  );
  assert.notEqual(deliverSpan.status.code, SpanStatusCode.ERROR);
  assert.equal(got[0]!.url, '/hooks?token=query-secret-42', 'the receiver got the URL as registered');
  // The receiver above runs in this process; its SERVER span is the merchant's side, not the router's.
  const routerSpans = spans.filter((s: ReadableSpan) => !(s.kind === SpanKind.SERVER && s.parentSpanContext?.spanId === deliverSpan.spanContext().spanId));
  assert.equal(JSON.stringify(routerSpans.map((s) => s.attributes)).includes('query-secret-42'), false, 'the query never reaches a router span');
  assert.equal(spans.filter((s) => s.kind === SpanKind.CLIENT && s.attributes['http.request.method'] === 'POST').length, 1, 'one CLIENT span for the POST: webhook.deliver');
  // The merchant's receiver can join the trace: the POST carries the webhook.deliver span's context.
  assert.equal(got[0]!.headers.traceparent, `00-${CLIENT_TRACE}-${deliverSpan.spanContext().spanId}-01`);
});
