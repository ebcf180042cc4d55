import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTraces } from '../../src/otlp/decode-request';
import { translateSpans } from '../../src/translate/span-to-apm';
import { J, journeyRequest, TRACE_B } from './journey-fixture';

/**
 * The provider's exception in journey B as APM Server writes it (apm-data v1.19
 * input/otlp/traces.go convertSpanEvent + setErrorContext, exceptions.go, and
 * modelprocessor/groupingkey.go with md5): a clone of the span's context without service.target,
 * the exception in error.exception[], the stack trace unparsed (Node.js), masked like the span.
 */
test('exception span event of the failed provider call → the error document Kibana lists under Errors', () => {
  const docs = translateSpans(decodeTraces(Buffer.from(JSON.stringify(journeyRequest())), 'json').records);
  const errors = docs.filter((d) => d.kind === 'error');
  assert.equal(errors.length, 1);
  const { index, doc } = errors[0]!;
  assert.equal(index, 'logs-apm.error-default');
  const error = doc.error as { id: string };
  assert.match(error.id, /^[0-9a-f]{32}$/);
  assert.deepEqual(doc, {
    '@timestamp': '2023-11-14T22:13:20.042Z',
    timestamp: { us: 1_700_000_000_042_000 },
    data_stream: { type: 'logs', dataset: 'apm.error', namespace: 'default' },
    processor: { event: 'error', name: 'error' },
    agent: { name: 'opentelemetry/nodejs', version: '2.0.0' },
    host: { hostname: 'box-1', name: 'box-1' },
    service: {
      name: 'delivery-service', version: '1.2.3', environment: 'test', language: { name: 'nodejs' },
      framework: { name: '@opentelemetry/instrumentation-kafkajs', version: '0.10.0' },
    },
    http: { request: { method: 'POST' }, response: { status_code: 503 } },
    url: { original: 'https://api.sendgrid.com/v3/mail/send' },
    trace: { id: TRACE_B },
    parent: { id: J.bProvider },
    transaction: { id: J.bConsumer }, // our addition: the consumer transaction owning the span
    error: {
      id: error.id,
      grouping_key: '9ffdca24e90ac4c1c227fda77115828f', // md5("ProviderUnavailableError")
      grouping_name: 'provider 503 for +141*****100',
      exception: [{ type: 'ProviderUnavailableError', message: 'provider 503 for +141*****100', handled: true }],
      stack_trace: 'ProviderUnavailableError: provider 503\n    at send (sendgrid.ts:41:11)',
    },
    labels: { ca_region: 'eu' },
  });
  assert.doesNotMatch(JSON.stringify(doc), /14155550100/);
});
