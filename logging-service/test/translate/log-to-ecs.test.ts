import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLogs } from '../../src/otlp/decode-request';
import { levelFromSeverity, translateLogs } from '../../src/translate/log-to-ecs';
import { encodeLogs, IDS, kv, logsRequest, ns, resource, TRACE_ID } from '../fixtures/otlp-fixtures';

const fromJson = (req = logsRequest()) => translateLogs(decodeLogs(Buffer.from(JSON.stringify(req)), 'json').records);

test('winston log record → ECS log document with trace.id, span.id, log.level and a masked message', () => {
  const [first] = fromJson();
  assert.ok(first);
  assert.equal(first.index, 'logs-apm.app.router_service-default');
  assert.equal(first.kind, 'log');
  assert.deepEqual(first.doc, {
    '@timestamp': '2023-11-14T22:13:20.001Z',
    timestamp: { us: 1_700_000_000_001_000 },
    data_stream: { type: 'logs', dataset: 'apm.app.router_service', namespace: 'default' },
    processor: { event: 'log', name: 'log' },
    agent: { name: 'opentelemetry/nodejs', version: '2.0.0' },
    service: { name: 'router-service', version: '1.2.3', environment: 'test', language: { name: 'nodejs' }, framework: { name: '@opentelemetry/winston-transport', version: '0.33.0' } },
    host: { hostname: 'box-1', name: 'box-1' },
    message: 'message accepted for j***@example.com',
    log: { level: 'info' },
    event: { severity: 9 },
    trace: { id: TRACE_ID },
    span: { id: IDS.server },
    otel: { attributes: { 'ca.message.id': 'm-1' }, severity_text: 'info', scope: { name: '@opentelemetry/winston-transport', version: '0.33.0' } },
    labels: { ca_region: 'eu', ca_message_id: 'm-1' },
  });
});

test('protobuf and JSON log exports give identical documents', () => {
  assert.deepEqual(translateLogs(decodeLogs(encodeLogs(logsRequest()), 'protobuf').records), fromJson());
});

test('ids in trace_id/span_id attributes are used when the record carries none; level falls back to severity', () => {
  const req = {
    resourceLogs: [{ resource: resource('delivery-service'), scopeLogs: [{ logRecords: [{
      timeUnixNano: ns(5), severityNumber: 'SEVERITY_NUMBER_WARN', body: { kvlistValue: { values: [kv('event', 'retry')] } },
      attributes: [kv('trace_id', TRACE_ID), kv('span_id', IDS.attempt), kv('trace_flags', '01')],
    }] }] }],
  };
  const [doc] = fromJson(req);
  assert.ok(doc);
  const d = doc.doc as Record<string, any>;
  assert.deepEqual(d.trace, { id: TRACE_ID });
  assert.deepEqual(d.span, { id: IDS.attempt });
  assert.deepEqual(d.log, { level: 'warn' });
  assert.equal(d.message, '{"event":"retry"}');
  assert.deepEqual(d.labels, { ca_region: 'eu', event: 'retry' });
});

test('a log record with exception attributes is an APM error', () => {
  const req = {
    resourceLogs: [{ resource: resource('delivery-service'), scopeLogs: [{ logRecords: [{
      timeUnixNano: ns(5), severityNumber: 17, severityText: 'error', body: { stringValue: 'boom' }, traceId: TRACE_ID, spanId: IDS.attempt,
      attributes: [kv('exception.type', 'TypeError'), kv('exception.message', 'x is undefined')],
    }] }] }],
  };
  const [doc] = fromJson(req);
  assert.ok(doc);
  assert.equal(doc.index, 'logs-apm.error-default');
  const d = doc.doc as Record<string, any>;
  assert.deepEqual(d.processor, { event: 'error', name: 'error' });
  assert.deepEqual(d.error.exception, [{ type: 'TypeError', message: 'x is undefined', handled: true }]);
  assert.deepEqual(d.event, { severity: 17, kind: 'event', type: 'error' });
});

test('severity numbers map to level names', () => {
  assert.deepEqual([1, 5, 9, 12, 13, 17, 21, 0].map(levelFromSeverity), ['trace', 'debug', 'info', 'info', 'warn', 'error', 'fatal', '']);
});
