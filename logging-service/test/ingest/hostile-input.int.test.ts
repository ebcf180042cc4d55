import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { OTLP_TYPES } from '../../src/otlp/otlp-proto';
import type { StoredDoc } from '../../src/translate/documents';
import { encodeLogs, encodeTraces, IDS, kv, span } from '../fixtures/otlp-fixtures';
import { JSON_TYPE, ld, PROTOBUF, startPostgresService } from '../helpers';

const newTraceId = () => randomBytes(16).toString('hex');
const spanId = (i: number) => `a1b2c3d4${i.toString(16).padStart(8, '0')}`;
type Json = Record<string, unknown>;
const traces = (spans: Json[], resource: Json = {}) => ({ resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 's' }, spans }] }] });

/** { arrayValue: { values: [ ... depth levels ... ] } } built without recursion. */
function nested(depth: number): Json {
  let v: Json = { stringValue: 'bottom' };
  for (let i = 0; i < depth; i += 1) v = { arrayValue: { values: [v] } };
  return v;
}

/** The same as OTLP/JSON text, for depths JSON.stringify (recursive) cannot write. */
const nestedJson = (depth: number) => '{"arrayValue":{"values":['.repeat(depth) + '{"stringValue":"bottom"}' + ']}}'.repeat(depth);
const DEEP = '"__deep__"';

/** An ExportTraceServiceRequest whose spans carry an attribute `deep` nested `depth` levels. */
function deepProtobuf(spans: Array<{ span: Json; depth: number }>): Buffer {
  const parts = spans.map(({ span: sp, depth }) => {
    let value = ld(1, Buffer.from('bottom')); // AnyValue.string_value
    for (let i = 0; i < depth; i += 1) value = ld(5, ld(1, value)); // AnyValue.array_value → ArrayValue.values
    const attr = ld(9, Buffer.concat([ld(1, Buffer.from('deep')), ld(2, value)])); // Span.attributes: KeyValue
    const plain = Buffer.from(OTLP_TYPES.span.encode(OTLP_TYPES.span.fromObject({ ...sp, traceId: Buffer.from(sp.traceId as string, 'hex'), spanId: Buffer.from(sp.spanId as string, 'hex') })).finish());
    return ld(2, Buffer.concat([plain, attr])); // ScopeSpans.spans
  });
  return ld(1, ld(2, Buffer.concat(parts))); // request.resource_spans → ResourceSpans.scope_spans
}

test('hostile OTLP input against PostgreSQL', async (t) => {
  const { schema, store, url, post, getTrace } = await startPostgresService(t);

  await t.test('NUL and lone surrogates in any string: stored as U+FFFD, never a 503', async () => {
    const traceId = newTraceId();
    const s = span({ id: spanId(1), name: 'na\u0000me \ud800', kind: 2, from: 0, to: 1, traceId, status: { code: 2, message: 'bad\u0000' } });
    (s.attributes as Json[]).push(kv('k\u0000ey', 'v\udc00al\u0000'));
    s.events = [{ timeUnixNano: s.startTimeUnixNano, name: 'ev\u0000', attributes: [kv('x', '\ud83d')] }];
    for (const [body, headers] of [[JSON.stringify(traces([s])), JSON_TYPE], [encodeTraces(traces([s])), PROTOBUF]] as const) {
      const res = await post('/v1/traces', body, headers);
      assert.equal(res.status, 200);
    }
    const [stored] = (await getTrace(traceId)).spans;
    assert.equal(stored?.name, 'na\ufffdme \ufffd');
    assert.equal(stored?.attributes['k\ufffdey'], 'v\ufffdal\ufffd');
    const logs = { resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: s.startTimeUnixNano, body: { stringValue: 'line\u0000 \ud800' }, traceId }] }] }] };
    assert.equal((await post('/v1/logs', JSON.stringify(logs), JSON_TYPE)).status, 200);
    assert.equal((await post('/v1/logs', encodeLogs(logs), PROTOBUF)).status, 200);
    const found = (await (await fetch(`${url}/v1/logs?traceId=${traceId}`)).json()) as { logs: Array<{ message: string }> };
    // JSON keeps one U+FFFD per lone surrogate; protobuf's UTF-8 encoder already wrote it as bytes
    // the decoder turns into U+FFFD each.
    assert.deepEqual(found.logs.map((l) => l.message.replace(/\ufffd+$/, '\ufffd')).sort(), ['ev\ufffd', 'line\ufffd \ufffd', 'line\ufffd \ufffd']);
  });

  await t.test('timestamps outside 2000..2100 reject their record only', async () => {
    const traceId = newTraceId();
    const good = span({ id: spanId(10), name: 'good', kind: 2, from: 0, to: 1, traceId });
    const bad = [
      { ...span({ id: spanId(11), name: 'huge', kind: 2, from: 0, to: 1, traceId }), startTimeUnixNano: 1e30 },
      { ...span({ id: spanId(12), name: 'negative', kind: 2, from: 0, to: 1, traceId }), startTimeUnixNano: -1e22 },
      { ...span({ id: spanId(13), name: '1999', kind: 2, from: 0, to: 1, traceId }), startTimeUnixNano: '915148800000000000' },
      { ...span({ id: spanId(14), name: 'far end', kind: 2, from: 0, to: 1, traceId }), endTimeUnixNano: '99999999999999999999' },
      { ...span({ id: spanId(15), name: 'event', kind: 2, from: 0, to: 1, traceId }), events: [{ timeUnixNano: '7258118400000000000', name: 'e' }] },
      { ...span({ id: spanId(16), name: 'text', kind: 2, from: 0, to: 1, traceId }), startTimeUnixNano: '-1e22' },
    ];
    const res = await post('/v1/traces', JSON.stringify(traces([good, ...bad])), JSON_TYPE);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { partialSuccess: { rejectedSpans: number; errorMessage: string } };
    assert.equal(body.partialSuccess.rejectedSpans, 6);
    assert.match(body.partialSuccess.errorMessage, /time outside 2000-01-01\.\.2100-01-01/);
    assert.deepEqual((await getTrace(traceId)).spans.map((s) => s.name), ['good']);
    const logs = { resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: 1e30, body: { stringValue: 'x' } }, { timeUnixNano: good.startTimeUnixNano, body: { stringValue: 'ok' } }] }] }] };
    const lr = await post('/v1/logs', encodeLogs(logs), PROTOBUF);
    assert.equal(lr.status, 200);
    const decoded = OTLP_TYPES.logsResponse.toObject(OTLP_TYPES.logsResponse.decode(Buffer.from(await lr.arrayBuffer())), { longs: Number });
    assert.equal((decoded.partialSuccess as { rejectedLogRecords: number }).rejectedLogRecords, 1);
  });

  await t.test('AnyValue nested thousands of levels rejects its record, no stack overflow, no 500', async () => {
    const traceId = newTraceId();
    const deep = (id: number, depth: number) => {
      const s = span({ id: spanId(id), name: `deep ${depth}`, kind: 2, from: 0, to: 1, traceId });
      (s.attributes as Json[]).push({ key: 'deep', value: nested(depth) });
      return s;
    };
    const ok = deep(20, 30);
    const huge = span({ id: spanId(22), name: 'deep 100000', kind: 2, from: 0, to: 1, traceId, attributes: { deep: '__deep__' } });
    const json = await post('/v1/traces', JSON.stringify(traces([ok, deep(21, 33), huge])).replace(`{"stringValue":${DEEP}}`, nestedJson(100_000)), JSON_TYPE);
    assert.equal(json.status, 200);
    assert.deepEqual(await json.json(), { partialSuccess: { rejectedSpans: 2, errorMessage: 'attribute value nested deeper than 32 levels' } });
    // protobuf: past protobufjs's own recursion limit the span no longer decodes; rejected alone too.
    const plainSpan = (id: number, depth: number) => ({ span: span({ id: spanId(id), name: `deep ${depth}`, kind: 2, from: 0, to: 1, traceId }), depth });
    const proto = await post('/v1/traces', deepProtobuf([plainSpan(23, 40), plainSpan(24, 2000), plainSpan(25, 3)]), PROTOBUF);
    assert.equal(proto.status, 200);
    const decoded = OTLP_TYPES.traceResponse.toObject(OTLP_TYPES.traceResponse.decode(Buffer.from(await proto.arrayBuffer())), { longs: Number });
    assert.equal((decoded.partialSuccess as { rejectedSpans: number }).rejectedSpans, 2);
    assert.deepEqual((await getTrace(traceId)).spans.map((s) => s.name).sort(), ['deep 3', 'deep 30']);
    // A deep resource attribute rejects every span of that resource.
    const request = traces([span({ id: spanId(26), name: 'x', kind: 2, from: 0, to: 1, traceId })], { attributes: [kv('r', '__deep__')] });
    const res = await post('/v1/traces', JSON.stringify(request).replace(`{"stringValue":${DEEP}}`, nestedJson(50_000)), JSON_TYPE);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { partialSuccess: { rejectedSpans: number } }).partialSuccess.rejectedSpans, 1);
  });

  await t.test('recipients are masked in span names, keys, event names and percent-encoded values', async () => {
    const traceId = newTraceId();
    const s = span({ id: IDS.server, name: 'send to jane.doe@example.com', kind: 2, from: 0, to: 1, traceId, attributes: {
      'url.full': 'http://x/v1/send?to=jane.doe%40example.com&sms=%2B14155550100',
      'http.target': '/p?to=jane.doe%2540example.com',
      'recipient.jane.doe@example.com': 'yes',
    } });
    s.events = [{ timeUnixNano: s.startTimeUnixNano, name: 'sent to +14155550100' }];
    assert.equal((await post('/v1/traces', JSON.stringify(traces([s])), JSON_TYPE)).status, 200);
    const rows: Array<{ doc: unknown }> = await store.db.withSchema(schema).table('documents').select('doc').where({ trace_id: traceId });
    const all = JSON.stringify(rows);
    assert.doesNotMatch(all, /jane\.doe|14155550100|jane\.doe%40|%2B14155550100/i);
    assert.match(all, /j\*\*\*@example\.com/);
    assert.match(all, /\+141\*\*\*\*\*100/);
  });

  await t.test('GET /v1/logs with NUL or other malformed query → 400 problem+json', async () => {
    for (const qs of ['q=%00', 'service=a%00b', 'level=%01', 'q=a&q=b', 'limit=abc', 'nope=1', `q=${'x'.repeat(600)}`]) {
      const res = await fetch(`${url}/v1/logs?${qs}`);
      assert.equal(res.status, 400, qs);
      assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8', qs);
      assert.equal(((await res.json()) as { code: string }).code, 'INVALID_QUERY', qs);
    }
  });

  await t.test('the waterfall page has a strict CSP, no inline script, nosniff; its script is served separately', async () => {
    const traceId = newTraceId();
    assert.equal((await post('/v1/traces', JSON.stringify(traces([span({ id: spanId(30), name: '</script><script>alert(1)</script>', kind: 2, from: 0, to: 1, traceId })])), JSON_TYPE)).status, 200);
    for (const path of [`/traces/${traceId}`, `/traces/${newTraceId()}`]) {
      const res = await fetch(url + path);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      const html = await res.text();
      for (const [, attrs, inner] of html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
        assert.ok(/type="application\/json"/.test(attrs!) || (/src="\/assets\/waterfall\.js"/.test(attrs!) && inner === ''), `inline script: ${attrs}`);
      }
      assert.doesNotMatch(html, /<script>alert/);
    }
    const js = await fetch(`${url}/assets/waterfall.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(js.headers.get('x-content-type-options'), 'nosniff');
    assert.match(await js.text(), /trace-data/);
    assert.match((await fetch(`${url}/assets/waterfall.css`)).headers.get('content-type') ?? '', /^text\/css/);
  });

  await t.test('a value PostgreSQL refuses rejects that document only (store level)', async () => {
    const traceId = newTraceId();
    const doc = (id: string, message: string): StoredDoc => ({ id, index: 'logs-apm.app.x-default', kind: 'log', doc: { trace: { id: traceId }, service: { name: 'x' }, message, timestamp: { us: 1 } } });
    const result = await store.write([doc(`${traceId}-1`, 'fine'), doc(`${traceId}-2`, 'nul \u0000 here'), doc(`${traceId}-3`, 'fine too')]);
    assert.equal(result.rejected, 1);
    assert.match(result.reasons[0]!, /SQLSTATE 22/);
    assert.doesNotMatch(result.reasons[0]!, /insert|select|documents/i);
    const count = await store.db.withSchema(schema).table('documents').where({ trace_id: traceId }).count<Array<{ count: string }>>('* as count');
    assert.equal(Number(count[0]!.count), 2);
  });

  await t.test('storage down → 503 + Retry-After, with no SQL text in the answer', async () => {
    await store.db.raw('ALTER TABLE ??.documents RENAME TO documents_away', [schema]);
    t.after(() => store.db.raw('ALTER TABLE ??.documents_away RENAME TO documents', [schema]).then(() => undefined, () => undefined));
    const res = await post('/v1/traces', JSON.stringify(traces([span({ id: spanId(40), name: 'x', kind: 2, from: 0, to: 1, traceId: newTraceId() })])), JSON_TYPE);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '7');
    const text = await res.text();
    assert.doesNotMatch(text, /insert|relation|documents|select|syntax/i);
    await store.db.raw('ALTER TABLE ??.documents_away RENAME TO documents', [schema]);
  });
});
