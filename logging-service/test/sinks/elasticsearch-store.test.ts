import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@elastic/elasticsearch';
import { createElasticsearchStore } from '../../src/sinks/elasticsearch-store';
import { TEMPLATES_DIR } from '../../src/sinks/create-store';
import type { TraceView } from '../../src/traces/trace-view';
import { encodeTraces, IDS, TRACE_ID, traceRequest } from '../fixtures/otlp-fixtures';
import { JSON_TYPE, PROTOBUF, startService } from '../helpers';
import { startFakeElasticsearch, type BulkScript } from './fake-elasticsearch';

const DOCS_PER_EXPORT = 9; // 7 spans + 1 span-event log + 1 exception error

async function setup(t: { after(fn: () => Promise<void>): void }, script?: BulkScript, maxAttempts = 3) {
  const es = await startFakeElasticsearch(script);
  const client = new Client({ node: es.url, maxRetries: 0, requestTimeout: 5000 });
  const store = createElasticsearchStore({
    client, templatesDir: TEMPLATES_DIR, retryAfterSeconds: 4, sleep: async () => undefined,
    bulk: { flushBytes: 1_000_000, concurrency: 1, retries: 2, waitMs: 5, maxAttempts },
  });
  const svc = await startService(store);
  t.after(async () => {
    try {
      await svc.close();
    } finally {
      await es.close();
    }
  });
  const post = () => fetch(`${svc.url}/v1/traces`, { method: 'POST', body: encodeTraces(traceRequest()), headers: PROTOBUF });
  return { es, svc, post };
}

test('start installs the index templates from logging-service/elasticsearch', async (t) => {
  const { es } = await setup(t);
  assert.deepEqual([...es.templates.keys()].sort(), ['ca-logs-apm-app', 'ca-logs-apm-error', 'ca-metrics-apm', 'ca-traces-apm']);
  const traces = es.templates.get('ca-traces-apm') as { index_patterns: string[]; data_stream: object; priority: number };
  assert.deepEqual(traces.index_patterns, ['traces-apm-*']);
  assert.deepEqual(traces.data_stream, {});
});

test('the sender hears 200 only after the bulk request confirmed every document', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const { es, post } = await setup(t, () => ({ delay: gate }));
  let answered = false;
  const res = post().then((r) => { answered = true; return r; });
  while (es.bulkCalls.length === 0) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(answered, false);
  release();
  assert.equal((await res).status, 200);
  assert.equal(es.docs.size, DOCS_PER_EXPORT);
  const indices = new Set([...es.docs.values()].map((d) => d.index));
  assert.deepEqual([...indices].sort(), ['logs-apm.app.delivery_service-default', 'logs-apm.error-default', 'traces-apm-default']);
});

test('documents ES answers 429 for are retried by the bulk helper; nothing is dropped', async (t) => {
  const { es, post } = await setup(t, (call, items) => (call === 1 ? { itemStatus: items.map((_, i) => (i % 2 === 0 ? 429 : undefined)) } : {}));
  assert.equal((await post()).status, 200);
  assert.equal(es.docs.size, DOCS_PER_EXPORT);
  assert.equal(es.bulkCalls.length, 2);
  assert.equal(es.bulkCalls[1]!.length, Math.ceil(DOCS_PER_EXPORT / 2));
});

test('partial bulk failures (5xx items) and failed bulk requests are retried; stored documents are not duplicated', async (t) => {
  const { es, post } = await setup(t, (call, items) => {
    if (call === 1) return { itemStatus: items.map((_, i) => (i === 0 ? 503 : undefined)) };
    if (call === 2) return { status: 503 };
    return {};
  });
  assert.equal((await post()).status, 200);
  assert.equal(es.docs.size, DOCS_PER_EXPORT);
  assert.equal(es.bulkCalls.length, 3);
  // a retried export: every document answers 409, which counts as stored
  assert.equal((await post()).status, 200);
  assert.equal(es.docs.size, DOCS_PER_EXPORT);
});

test('ES that keeps answering 429: the sender gets 429 + Retry-After, not 200', async (t) => {
  const { es, post } = await setup(t, (_call, items) => ({ itemStatus: items.map(() => 429) }), 2);
  const res = await post();
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('retry-after'), '4');
  assert.equal(es.docs.size, 0);
  assert.equal(es.bulkCalls.length, 6); // 2 passes × (1 + 2 helper retries)
});

test('ES that keeps failing: the sender gets 503 + Retry-After as problem+json', async (t) => {
  const { svc, es } = await setup(t, () => ({ status: 500 }), 3);
  const res = await fetch(`${svc.url}/v1/traces`, { method: 'POST', body: JSON.stringify(traceRequest()), headers: JSON_TYPE });
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), '4');
  assert.equal(((await res.json()) as { code: string }).code, 'SINK_UNAVAILABLE');
  assert.equal(es.bulkCalls.length, 3);
});

test('a document ES refuses for good (400) is reported through partial_success, the rest stored', async (t) => {
  const { es, svc } = await setup(t, (call, items) => (call === 1 ? { itemStatus: items.map((_, i) => (i === 1 ? 400 : undefined)) } : {}));
  const res = await fetch(`${svc.url}/v1/traces`, { method: 'POST', body: JSON.stringify(traceRequest()), headers: JSON_TYPE });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { partialSuccess: { rejectedSpans: number; errorMessage: string } };
  assert.equal(body.partialSuccess.rejectedSpans, 1);
  assert.match(body.partialSuccess.errorMessage, /mapper_parsing_exception/);
  assert.equal(es.docs.size, DOCS_PER_EXPORT - 1);
});

test('the trace API reads spans and events back from Elasticsearch', async (t) => {
  const { svc, post } = await setup(t);
  assert.equal((await post()).status, 200);
  const trace = (await (await fetch(`${svc.url}/v1/traces/${TRACE_ID}`)).json()) as TraceView;
  assert.equal(trace.spans.length, 7);
  assert.equal(trace.spans[0]!.spanId, IDS.server);
  assert.deepEqual(trace.spans.find((s) => s.spanId === IDS.provider)!.logs.map((l) => l.level), ['info', 'error']);
});
