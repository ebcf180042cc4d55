import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { OTLP_TYPES } from '../src/otlp/otlp-proto';
import type { TraceView } from '../src/traces/trace-view';
import { encodeLogs, encodeTraces, IDS, logsRequest, span, traceRequest } from './fixtures/otlp-fixtures';
import { JSON_TYPE, PROTOBUF, startPostgresService } from './helpers';

const newTraceId = () => randomBytes(16).toString('hex');

test('logging-service on PostgreSQL', async (t) => {
  const { url, post, getTrace } = await startPostgresService(t);

  const traceA = newTraceId();

  await t.test('protobuf traces and JSON logs are stored and come back as one trace with logs on their spans', async () => {
    const tr = await post('/v1/traces', encodeTraces(traceRequest(traceA)), PROTOBUF);
    assert.equal(tr.status, 200);
    assert.equal(tr.headers.get('content-type'), 'application/x-protobuf');
    assert.deepEqual(OTLP_TYPES.traceResponse.toObject(OTLP_TYPES.traceResponse.decode(Buffer.from(await tr.arrayBuffer()))), {});
    const lr = await post('/v1/logs', JSON.stringify(logsRequest(traceA)), JSON_TYPE);
    assert.equal(lr.status, 200);
    assert.deepEqual(await lr.json(), {});

    const res = await fetch(`${url}/v1/traces/${traceA.toUpperCase()}`);
    assert.equal(res.status, 200);
    const trace = (await res.json()) as TraceView;
    assert.equal(trace.traceId, traceA);
    assert.deepEqual(trace.services, ['delivery-service', 'router-service']);
    assert.deepEqual(trace.spans.map((s) => s.spanId), [IDS.server, IDS.pg, IDS.producer, IDS.httpClient, IDS.consumer, IDS.attempt, IDS.provider]);
    const server = trace.spans[0]!;
    assert.deepEqual({ ...server, logs: undefined, attributes: undefined }, {
      spanId: IDS.server, parentSpanId: null, service: 'router-service', name: 'POST /v1/messages', kind: 'SERVER',
      startTime: '2023-11-14T22:13:20.000Z', durationMs: 20, status: 'unset', logs: undefined, attributes: undefined,
    });
    assert.equal(server.attributes['http.status_code'], 202);
    assert.deepEqual(server.logs, [{ time: '2023-11-14T22:13:20.001Z', level: 'info', message: 'message accepted for j***@example.com' }]);
    const pg = trace.spans[1]!;
    assert.equal(pg.parentSpanId, IDS.server);
    assert.equal(pg.kind, 'CLIENT');
    assert.equal(pg.durationMs, 3.5);
    const provider = trace.spans.find((s) => s.spanId === IDS.provider)!;
    assert.equal(provider.status, 'error');
    assert.deepEqual(provider.logs.map((l) => [l.level, l.message]), [
      ['warn', 'provider slow for +141*****100'],
      ['info', 'retry.scheduled'],
      ['error', 'ProviderTimeoutError: provider timeout for +141*****100'],
    ]);
    assert.deepEqual(trace.spans.find((s) => s.spanId === IDS.attempt)!.logs.map((l) => l.message), ['attempt failed']);
  });

  await t.test('a retried export stores nothing twice', async () => {
    assert.equal((await post('/v1/traces', encodeTraces(traceRequest(traceA)), PROTOBUF)).status, 200);
    assert.equal((await getTrace(traceA)).spans.length, 7);
  });

  await t.test('gzip JSON and gzip protobuf exports are accepted', async () => {
    const traceB = newTraceId();
    const r1 = await post('/v1/traces', gzipSync(JSON.stringify(traceRequest(traceB))), { ...JSON_TYPE, 'content-encoding': 'gzip' });
    assert.equal(r1.status, 200);
    const r2 = await post('/v1/logs', gzipSync(encodeLogs(logsRequest(traceB))), { ...PROTOBUF, 'content-encoding': 'gzip' });
    assert.equal(r2.status, 200);
    const trace = await getTrace(traceB);
    assert.equal(trace.spans.length, 7);
    assert.equal(trace.spans[0]!.logs.length, 1);
  });

  await t.test('records with invalid ids get partial_success, JSON and protobuf', async () => {
    const traceC = newTraceId();
    const req = { resourceSpans: [{ scopeSpans: [{ spans: [
      span({ id: IDS.server, name: 'good', kind: 2, from: 0, to: 1, traceId: traceC }),
      span({ id: 'abc', name: 'bad', kind: 2, from: 0, to: 1, traceId: traceC }),
    ] }] }] };
    const r1 = await post('/v1/traces', JSON.stringify(req), JSON_TYPE);
    assert.equal(r1.status, 200);
    assert.deepEqual(await r1.json(), { partialSuccess: { rejectedSpans: 1, errorMessage: 'invalid trace_id or span_id' } });
    const bad = { resourceSpans: [{ scopeSpans: [{ spans: [{ ...span({ id: IDS.pg, name: 'bad', kind: 2, from: 0, to: 1 }), spanId: Buffer.from('0102', 'hex'), traceId: Buffer.from(traceC, 'hex') }] }] }] };
    const t2 = OTLP_TYPES.traceRequest;
    const r2 = await post('/v1/traces', Buffer.from(t2.encode(t2.fromObject(bad)).finish()), PROTOBUF);
    assert.equal(r2.status, 200);
    const decoded = OTLP_TYPES.traceResponse.toObject(OTLP_TYPES.traceResponse.decode(Buffer.from(await r2.arrayBuffer())), { longs: Number });
    assert.deepEqual(decoded, { partialSuccess: { rejectedSpans: 1, errorMessage: 'invalid trace_id or span_id' } });
    assert.deepEqual((await getTrace(traceC)).spans.map((s) => s.name), ['good']);
  });

  await t.test('malformed bodies answer 400: problem+json for JSON, google.rpc.Status for protobuf', async () => {
    const r1 = await post('/v1/traces', '{"resourceSpans": [', JSON_TYPE);
    assert.equal(r1.status, 400);
    assert.equal(r1.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(((await r1.json()) as { code: string }).code, 'MALFORMED_OTLP');
    const r2 = await post('/v1/logs', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), PROTOBUF);
    assert.equal(r2.status, 400);
    const status = OTLP_TYPES.rpcStatus.toObject(OTLP_TYPES.rpcStatus.decode(Buffer.from(await r2.arrayBuffer())));
    assert.equal(status.code, 3);
    const r3 = await post('/v1/traces', Buffer.from('not gzip'), { ...PROTOBUF, 'content-encoding': 'gzip' });
    assert.equal(r3.status, 400);
    const r4 = await post('/v1/traces', 'hello', { 'content-type': 'text/plain' });
    assert.equal(r4.status, 415);
  });

  await t.test('unknown trace → 404 problem+json and a 404 HTML page; a bad id → 400', async () => {
    const unknown = newTraceId();
    const r1 = await fetch(`${url}/v1/traces/${unknown}`);
    assert.equal(r1.status, 404);
    assert.equal(r1.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(((await r1.json()) as { code: string }).code, 'TRACE_NOT_FOUND');
    const r2 = await fetch(`${url}/traces/${unknown}`);
    assert.equal(r2.status, 404);
    assert.match(await r2.text(), /Trace not found/);
    assert.equal((await fetch(`${url}/v1/traces/not-a-trace`)).status, 400);
  });

  await t.test('the HTML waterfall is self-contained and carries the trace', async () => {
    const res = await fetch(`${url}/traces/${traceA}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    const html = await res.text();
    assert.doesNotMatch(html, /(src|href)\s*=\s*["']?(https?:)?\/\//i);
    assert.match(html, /POST \/v1\/messages/);
    const data = /<script type="application\/json" id="trace-data">(.*?)<\/script>/s.exec(html);
    assert.ok(data);
    assert.equal((JSON.parse(data[1]!) as TraceView).spans.length, 7);
  });

  await t.test('GET /v1/logs filters by trace, service, level and text, newest first', async () => {
    const q = async (qs: string) => {
      const res = await fetch(`${url}/v1/logs?${qs}`);
      assert.equal(res.status, 200, qs);
      return ((await res.json()) as { logs: Array<{ message: string; level: string; service: string; traceId: string; spanId: string; attributes: Record<string, unknown> }> }).logs;
    };
    const all = await q(`traceId=${traceA}`);
    assert.deepEqual(all.map((l) => l.message), ['attempt failed', 'retry.scheduled', 'provider slow for +141*****100', 'message accepted for j***@example.com']);
    assert.deepEqual(all[2], {
      time: '2023-11-14T22:13:20.013Z', level: 'warn', message: 'provider slow for +141*****100', service: 'delivery-service',
      traceId: traceA, spanId: IDS.provider, attributes: { 'ca.message.id': 'm-1', attempt: 1 },
    });
    assert.deepEqual((await q(`traceId=${traceA}&service=router-service`)).map((l) => l.service), ['router-service']);
    assert.deepEqual((await q(`traceId=${traceA}&level=ERROR`)).map((l) => l.message), ['attempt failed']);
    assert.deepEqual((await q(`traceId=${traceA}&q=PROVIDER%20slow`)).map((l) => l.message), ['provider slow for +141*****100']);
    assert.equal((await q(`traceId=${traceA}&limit=2`)).length, 2);
    assert.equal((await q('q=100%25')).length, 0); // % is literal, not a wildcard
    const bad = await fetch(`${url}/v1/logs?limit=1001`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: string }).code, 'INVALID_QUERY');
  });

  await t.test('/health and /ready', async () => {
    assert.equal((await fetch(`${url}/health`)).status, 200);
    const ready = await fetch(`${url}/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, { postgres: 'ok' });
  });
});
