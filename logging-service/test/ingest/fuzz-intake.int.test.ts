import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { OTLP_TYPES } from '../../src/otlp/otlp-proto';
import { createPostgresStore } from '../../src/sinks/postgres-store';
import { startService, TEST_DATABASE_URL } from '../helpers';

/**
 * Generated OTLP/HTTP requests — valid and mangled, JSON and protobuf, gzip or not, odd content
 * types, huge/negative numbers, deep AnyValues, NUL and lone surrogates — posted to the intake
 * in-process against a real PostgreSQL schema. Whatever arrives: never a 5xx; every 4xx carries a
 * problem+json body (protobuf requests: a google.rpc.Status, as OTLP/HTTP requires for them).
 * Fixed seed, so a failure replays; FUZZ_RUNS overrides the number of requests. On a box too loaded
 * to post them all within FUZZ_TIME_LIMIT_MS (default 50 s) the run stops there, and says how many ran.
 */
const SEED = 20_261_203;
const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);
const TIME_LIMIT_MS = Number(process.env.FUZZ_TIME_LIMIT_MS ?? 50_000);

type Json = Record<string, unknown>;

const char = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom('\u0000', '\ud800', '\udfff', '\u001f', '@', '%40', '%2B', '+1415555', '%', '\\', '"', '</script>') },
  { weight: 4, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
const text = fc.string({ unit: char, maxLength: 24 });
const hexId = (bytes: number) => fc.oneof(
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex')),
  fc.constantFrom('', '0'.repeat(bytes * 2), 'zz', 'A'.repeat(bytes * 2)),
  text,
);
const nanos = fc.oneof(
  fc.bigInt({ min: 946_684_800_000_000_000n, max: 4_102_444_800_000_000_000n }).map(String),
  fc.constantFrom(1e30, -1e22, '-1e22', '99999999999999999999999', 0, '0', '', 1.5e18, Number.MAX_VALUE, '1700000000000000000'),
  fc.double().filter(Number.isFinite),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
);

function nest(leaf: Json, depth: number, kv: boolean): Json {
  let v = leaf;
  for (let i = 0; i < depth; i += 1) v = kv ? { kvlistValue: { values: [{ key: `k${i}`, value: v }] } } : { arrayValue: { values: [v] } };
  return v;
}
const scalarValue: fc.Arbitrary<Json> = fc.oneof(
  text.map((s) => ({ stringValue: s })),
  fc.boolean().map((b) => ({ boolValue: b })),
  fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String), fc.integer(), fc.constantFrom('1e400', 'x')).map((i) => ({ intValue: i })),
  fc.oneof(fc.double(), fc.constantFrom('NaN', 'Infinity')).map((d) => ({ doubleValue: d })),
  fc.constantFrom({ bytesValue: 'AQI=' }, {}, { unknownValue: 1 }),
);
const anyValue = fc.tuple(scalarValue, fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 60 }) }), fc.boolean())
  .map(([leaf, depth, kv]) => nest(leaf, depth, kv));
const attributes = fc.array(fc.record({ key: text, value: anyValue }), { maxLength: 4 });

const spanArb = fc.record({
  traceId: hexId(16), spanId: hexId(8), parentSpanId: fc.option(hexId(8), { nil: undefined }), name: text,
  kind: fc.oneof(fc.integer({ min: -1, max: 7 }), fc.constantFrom('SPAN_KIND_SERVER', 'nope', 2 ** 40)),
  startTimeUnixNano: nanos, endTimeUnixNano: nanos, attributes,
  events: fc.array(fc.record({ timeUnixNano: nanos, name: text, attributes }), { maxLength: 2 }),
  status: fc.record({ code: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.constant('STATUS_CODE_ERROR')), message: text }),
}, { requiredKeys: ['traceId', 'spanId', 'name', 'startTimeUnixNano'] });
const logArb = fc.record({
  timeUnixNano: nanos, observedTimeUnixNano: nanos, severityNumber: fc.integer({ min: -5, max: 30 }), severityText: text,
  body: anyValue, attributes, traceId: hexId(16), spanId: hexId(8), eventName: text,
}, { requiredKeys: ['body'] });
const resource = fc.record({ attributes });
const scope = fc.record({ name: text, version: text });

const tracesRequest = fc.array(fc.record({ resource, scopeSpans: fc.array(fc.record({ scope, spans: fc.array(spanArb, { maxLength: 4 }) }), { maxLength: 2 }) }), { maxLength: 2 })
  .map((resourceSpans) => ({ resourceSpans }));
const logsRequest = fc.array(fc.record({ resource, scopeLogs: fc.array(fc.record({ scope, logRecords: fc.array(logArb, { maxLength: 4 }) }), { maxLength: 2 }) }), { maxLength: 2 })
  .map((resourceLogs) => ({ resourceLogs }));

/** OTLP/JSON shape → what protobufjs.fromObject takes (ids as bytes); null when it cannot be encoded. */
function toProtobuf(signal: 'traces' | 'logs', req: Json): Buffer | null {
  const fix = (v: unknown, key = ''): unknown => {
    if (Array.isArray(v)) return v.map((x) => fix(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fix(x, k)]));
    if (typeof v === 'string' && ['traceId', 'spanId', 'parentSpanId'].includes(key)) return Buffer.from(v, 'hex');
    return v;
  };
  const type = signal === 'traces' ? OTLP_TYPES.traceRequest : OTLP_TYPES.logsRequest;
  try {
    return Buffer.from(type.encode(type.fromObject(fix(req) as Json)).finish());
  } catch {
    return null;
  }
}

const mangle = fc.oneof(
  fc.constant((b: Buffer) => b),
  fc.constant((b: Buffer) => b),
  fc.nat().map((n) => (b: Buffer) => b.subarray(0, b.length ? n % b.length : 0)),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([n, x]) => (b: Buffer) => {
    const c = Buffer.from(b);
    if (c.length) c[n % c.length] = c[n % c.length]! ^ x;
    return c;
  }),
);

const requestArb = fc.record({
  signal: fc.constantFrom('traces' as const, 'logs' as const),
  format: fc.constantFrom('json' as const, 'protobuf' as const),
  payload: fc.oneof(
    { weight: 6, arbitrary: fc.oneof(tracesRequest, logsRequest) as fc.Arbitrary<Json> },
    { weight: 1, arbitrary: fc.jsonValue() },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
  ),
  mangle,
  contentType: fc.oneof(
    { weight: 8, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom('text/plain', '', 'application/json; charset=latin1', 'APPLICATION/X-PROTOBUF', 'application/x-protobuf;;', 'multipart/form-data; boundary=x', 'application/problem+json') },
  ),
  encoding: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('identity', 'gzip') },
    { weight: 1, arbitrary: fc.constantFrom('deflate', 'br', 'gzip, gzip', 'x'.repeat(100)) },
  ),
  mangleAfterEncoding: fc.boolean(),
});

test('fuzz: generated OTLP requests never get a 5xx; every 4xx has a problem body', async (t) => {
  const schema = `t_${randomUUID().slice(0, 8)}`;
  const store = createPostgresStore({ url: TEST_DATABASE_URL, schema, retryAfterSeconds: 7 });
  const svc = await startService(store, { maxBodyBytes: 256 * 1024, maxRecords: 64 });
  t.after(async () => {
    await store.db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    await svc.close();
  });
  const statuses: Record<number, number> = {};
  await fc.assert(
    fc.asyncProperty(requestArb, async (r) => {
      let body: Buffer;
      if (Buffer.isBuffer(r.payload)) body = r.payload;
      else if (r.format === 'protobuf' && typeof r.payload === 'object' && r.payload !== null && !Array.isArray(r.payload)) body = toProtobuf(r.signal, r.payload as Json) ?? Buffer.from(JSON.stringify(r.payload));
      else body = Buffer.from(JSON.stringify(r.payload) ?? 'null');
      if (!r.mangleAfterEncoding) body = r.mangle(body);
      if (r.encoding === 'gzip') body = gzipSync(body);
      if (r.encoding === 'deflate') body = deflateSync(body);
      if (r.mangleAfterEncoding) body = r.mangle(body);
      const contentType = r.contentType ?? (r.format === 'json' ? 'application/json' : 'application/x-protobuf');
      const headers: Record<string, string> = { 'content-type': contentType };
      if (r.encoding !== 'identity') headers['content-encoding'] = r.encoding;
      const res = await fetch(`${svc.url}/v1/${r.signal}`, { method: 'POST', body, headers });
      const raw = Buffer.from(await res.arrayBuffer());
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      assert.ok(res.status < 500, `${res.status}: ${raw.toString().slice(0, 300)}`);
      if (res.status >= 400) {
        const type = res.headers.get('content-type') ?? '';
        if (/^application\/(x-)?protobuf/i.test(contentType.trim()) && type.startsWith('application/x-protobuf')) {
          const status = OTLP_TYPES.rpcStatus.toObject(OTLP_TYPES.rpcStatus.decode(raw)) as { code?: number; message?: string };
          assert.ok(status.code && status.message, 'protobuf error without a google.rpc.Status');
        } else {
          assert.match(type, /^application\/problem\+json/);
          const problem = JSON.parse(raw.toString()) as { status: number; code: string; title: string };
          assert.equal(problem.status, res.status);
          assert.ok(problem.code && problem.title);
        }
        assert.doesNotMatch(raw.toString(), /insert into|select |SQLSTATE|stack/i);
      } else {
        assert.equal(res.status, 200);
      }
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
  );
  const ran = Object.values(statuses).reduce((a, b) => a + b, 0);
  t.diagnostic(`${ran} of ${RUNS} requests in the time limit; statuses: ${JSON.stringify(statuses)}`);
  assert.ok(ran >= Math.min(RUNS, 500), `only ${ran} requests ran`);
  assert.equal((await fetch(`${svc.url}/health`)).status, 200);
});
