import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTraces } from '../../src/otlp/decode-request';
import { translateSpans } from '../../src/translate/span-to-apm';
import type { StoredDoc } from '../../src/translate/documents';
import { encodeTraces, IDS, resource, span, TRACE_ID, traceRequest } from '../fixtures/otlp-fixtures';

const fromJson = () => translateSpans(decodeTraces(Buffer.from(JSON.stringify(traceRequest())), 'json').records);
const fromProtobuf = () => translateSpans(decodeTraces(encodeTraces(traceRequest()), 'protobuf').records);

const docs = fromJson();
const bySpan = (id: string, kind?: StoredDoc['kind']) => {
  const found = docs.find((d) => (kind ? d.kind === kind : d.kind === 'transaction' || d.kind === 'span') && ((d.doc.span as { id?: string } | undefined)?.id === id || (d.doc.parent as { id?: string } | undefined)?.id === id && kind === 'error'));
  assert.ok(found, `no ${kind ?? 'span'} document for ${id}`);
  return found.doc as Record<string, any>;
};

const routerService = { name: 'router-service', version: '1.2.3', environment: 'test', language: { name: 'nodejs' } };
const agent = { name: 'opentelemetry/nodejs', version: '2.0.0' };

test('protobuf and JSON encodings of the same export give identical documents', () => {
  assert.deepEqual(fromProtobuf(), docs);
  assert.equal(docs.length, 9); // 7 spans, 1 span event log, 1 exception error
});

test('http server span → APM transaction as APM Server writes it', () => {
  assert.deepEqual(bySpan(IDS.server), {
    '@timestamp': '2023-11-14T22:13:20.000Z',
    timestamp: { us: 1_700_000_000_000_000 },
    data_stream: { type: 'traces', dataset: 'apm', namespace: 'default' },
    agent,
    service: { ...routerService, framework: { name: '@opentelemetry/instrumentation-http', version: '0.200.0' } },
    trace: { id: TRACE_ID },
    host: { hostname: 'box-1', name: 'box-1' },
    user_agent: { original: 'curl/8' },
    http: { request: { method: 'POST' }, version: '1.1', response: { status_code: 202 } },
    url: { original: '/v1/messages?dry=1', scheme: 'http', full: 'http://localhost:3000/v1/messages?dry=1', domain: 'localhost', path: '/v1/messages', query: 'dry=1', port: 3000 },
    processor: { event: 'transaction', name: 'transaction' },
    transaction: { id: IDS.server, name: 'POST /v1/messages', type: 'request', result: 'HTTP 2xx', sampled: true, duration: { us: 20_000 }, representative_count: 1 },
    span: { id: IDS.server },
    event: { outcome: 'success', success_count: 1 },
    otel: {
      kind: 'SERVER', status: { code: 'unset', message: '' }, scope: { name: '@opentelemetry/instrumentation-http', version: '0.200.0' },
      attributes: { 'http.method': 'POST', 'http.target': '/v1/messages?dry=1', 'http.host': 'localhost:3000', 'http.scheme': 'http', 'http.status_code': 202, 'http.flavor': '1.1', 'http.route': '/v1/messages', 'http.user_agent': 'curl/8', 'ca.message.id': 'm-1' },
    },
    labels: { ca_region: 'eu', http_route: '/v1/messages', ca_message_id: 'm-1' },
  });
});

test('pg client span → db span with destination and service.target; the statement is masked', () => {
  const d = bySpan(IDS.pg);
  assert.deepEqual(d.processor, { event: 'span', name: 'transaction' });
  assert.deepEqual(d.parent, { id: IDS.server });
  assert.deepEqual(d.transaction, { id: IDS.server });
  assert.deepEqual(d.span, {
    id: IDS.pg, name: 'pg.query:INSERT comm_aggregator', type: 'db', subtype: 'postgresql',
    db: { type: 'postgresql', statement: "INSERT INTO outbox(to) VALUES ('j***@example.com')", instance: 'comm_aggregator', user: { name: 'postgres' } },
    destination: { service: { name: 'postgresql', resource: 'postgresql', type: 'db' } },
    duration: { us: 3500 }, representative_count: 1,
  });
  assert.deepEqual(d.service.target, { type: 'postgresql', name: 'comm_aggregator' });
  assert.deepEqual(d.destination, { address: '127.0.0.1', port: 5432 });
  // Unset status, no HTTP status: success (apm-data v1.19 TranslateSpan).
  assert.deepEqual(d.event, { outcome: 'success', success_count: 1 });
  assert.equal(d.timestamp.us, 1_700_000_000_002_000);
});

test('kafkajs producer span (new semconv) → messaging span with action send and queue target', () => {
  const d = bySpan(IDS.producer);
  assert.equal(d.span.type, 'messaging');
  assert.equal(d.span.subtype, 'kafka');
  assert.equal(d.span.action, 'send');
  assert.deepEqual(d.span.message, { queue: { name: 'send.email' } });
  assert.deepEqual(d.span.destination, { service: { name: 'kafka', resource: 'kafka/send.email', type: 'messaging' } });
  assert.deepEqual(d.service.target, { type: 'kafka', name: 'send.email' });
});

test('kafkajs consumer span (old semconv) → messaging transaction with the remote parent', () => {
  const d = bySpan(IDS.consumer);
  assert.deepEqual(d.processor, { event: 'transaction', name: 'transaction' });
  assert.deepEqual(d.parent, { id: IDS.producer });
  assert.deepEqual(d.transaction, {
    id: IDS.consumer, name: 'process send.email', type: 'messaging', result: 'Success', sampled: true,
    duration: { us: 29_000 }, representative_count: 1, message: { queue: { name: 'send.email' } },
  });
  assert.equal(d.service.name, 'delivery-service');
  assert.deepEqual(d.service.framework, { name: '@opentelemetry/instrumentation-kafkajs', version: '0.10.0' });
  assert.deepEqual(d.numeric_labels, { messaging_kafka_partition: 0 });
  // Unset status and no HTTP status code: success with result "Success" (apm-data v1.19 TranslateTransaction).
  assert.deepEqual(d.event, { outcome: 'success', success_count: 1 });
});

test('http client span with error status → external/http span, outcome failure, url and destination', () => {
  const d = bySpan(IDS.httpClient);
  assert.equal(d.span.type, 'external');
  assert.equal(d.span.subtype, 'http');
  assert.deepEqual(d.span.destination, { service: { name: 'http://delivery:3001', resource: 'delivery:3001', type: 'external' } });
  assert.deepEqual(d.service.target, { type: 'http', name: 'delivery:3001' });
  assert.deepEqual(d.http, { request: { method: 'GET' }, response: { status_code: 503 } });
  assert.deepEqual(d.url, { original: 'http://delivery:3001/internal/v1/messages/m-1' });
  assert.deepEqual(d.destination, { address: 'delivery', port: 3001 });
  assert.deepEqual(d.event, { outcome: 'failure', success_count: 0 });
  assert.deepEqual(d.otel.status, { code: 'error', message: 'Service Unavailable' });
});

test('internal span with error status → app/internal span with outcome failure, owned by its transaction', () => {
  const d = bySpan(IDS.provider);
  assert.equal(d.span.type, 'app');
  assert.equal(d.span.subtype, 'internal');
  assert.deepEqual(d.event, { outcome: 'failure', success_count: 0 });
  assert.deepEqual(d.transaction, { id: IDS.consumer });
  assert.equal(d.otel.status.message, 'provider timeout for +141*****100');
});

test('exception span event → APM error in logs-apm.error-default with the span context', () => {
  const error = docs.find((d) => d.kind === 'error');
  assert.ok(error);
  assert.equal(error.index, 'logs-apm.error-default');
  const d = error.doc as Record<string, any>;
  assert.deepEqual(d.processor, { event: 'error', name: 'error' });
  assert.deepEqual(d.data_stream, { type: 'logs', dataset: 'apm.error', namespace: 'default' });
  assert.deepEqual(d.parent, { id: IDS.provider });
  assert.deepEqual(d.trace, { id: TRACE_ID });
  assert.deepEqual(d.transaction, { id: IDS.consumer });
  assert.equal(d.timestamp.us, 1_700_000_000_024_000);
  assert.match(d.error.id, /^[0-9a-f]{32}$/);
  assert.equal(d.error.grouping_key, 'bb6d823ecd03b529197880aaf4f9ea78'); // md5('ProviderTimeoutError')
  assert.deepEqual(d.error.exception, [{ type: 'ProviderTimeoutError', message: 'provider timeout for +141*****100', handled: true }]);
  assert.match(d.error.stack_trace, /at send/);
  assert.equal(d.service.target, undefined); // convertSpanEvent drops service.target
});

test('non-exception span event → log event in the service app-log stream', () => {
  const log = docs.find((d) => d.kind === 'log');
  assert.ok(log);
  assert.equal(log.index, 'logs-apm.app.delivery_service-default');
  const d = log.doc as Record<string, any>;
  assert.equal(d.message, 'retry.scheduled');
  assert.deepEqual(d.event, { kind: 'event' });
  assert.deepEqual(d.span, { id: IDS.provider });
  assert.deepEqual(d.numeric_labels, { ca_attempt_backoff_ms: 250 });
});

test('document ids are stable, so a retried export maps to the same ids', () => {
  assert.deepEqual(fromJson().map((d) => d.id), docs.map((d) => d.id));
  assert.equal(new Set(docs.map((d) => d.id)).size, docs.length);
});

test('current apm-data rules: unset status → success/"Success"; messaging.operation.type alone makes a messaging transaction', () => {
  const request = {
    resourceSpans: [{
      resource: resource('delivery-service'),
      scopeSpans: [{
        scope: { name: 'kafkajs', version: '1' },
        spans: [
          span({ id: 'aaaaaaaaaaaaaaa1', name: 'process send.sms', kind: 5, from: 0, to: 5, attributes: { 'messaging.operation.type': 'process' } }),
          span({ id: 'aaaaaaaaaaaaaaa2', name: 'sweep', kind: 1, from: 0, to: 1 }),
          span({ id: 'aaaaaaaaaaaaaaa3', parent: 'aaaaaaaaaaaaaaa1', name: 'publish', kind: 4, from: 1, to: 2, attributes: { 'messaging.system': 'kafka', 'messaging.operation.name': 'publish', 'messaging.destination.name': 'send.sms.retry' } }),
        ],
      }],
    }],
  };
  const out = translateSpans(decodeTraces(Buffer.from(JSON.stringify(request)), 'json').records);
  const doc = (id: string) => out.find((d) => (d.doc.span as { id: string }).id === id)?.doc as Record<string, any>;
  const consumer = doc('aaaaaaaaaaaaaaa1');
  assert.equal(consumer.transaction.type, 'messaging');
  assert.equal(consumer.transaction.result, 'Success');
  assert.deepEqual(consumer.event, { outcome: 'success', success_count: 1 });
  assert.equal(consumer.labels.messaging_operation_type, 'process');
  const root = doc('aaaaaaaaaaaaaaa2');
  assert.equal(root.transaction.type, 'unknown');
  assert.equal(root.transaction.result, 'Success');
  // messaging.operation.name is a label, not the action; a producer without a type sends.
  const producer = doc('aaaaaaaaaaaaaaa3');
  assert.equal(producer.span.type, 'messaging');
  assert.equal(producer.span.subtype, 'kafka');
  assert.equal(producer.span.action, 'send');
  assert.equal(producer.labels.messaging_operation_name, 'publish');
  assert.deepEqual(producer.span.destination, { service: { name: 'kafka', resource: 'kafka/send.sms.retry', type: 'messaging' } });
});
