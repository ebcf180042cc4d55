import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { testProducer } from '../support/kafka';
import { AUTH, SAMPLES, startRouter } from '../support/router-harness';

/**
 * Generated requests against the router built in-process on a real PostgreSQL schema: bodies near
 * and far from the schema, hostile strings, odd content types and encodings, garbage compression,
 * bad percent-encoding, odd methods and Idempotency-Keys. Whatever arrives: never a 5xx, and every
 * 4xx is a problem+json body. A 202 is fine. Seeded, so a failure replays exactly.
 */
const SEED = 20_261_203;
// Requests go out in batches sent together (a loaded box waits on PostgreSQL, not on the CPU).
const BATCH = 8;
const RUNS = 2_000 / BATCH;
const DEAD = '127.0.0.1:1';

// ---- strings that break things: NUL and other controls, lone surrogates, astral pairs, huge ----
const hostileUnit = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.constantFrom('\u0000', '\u0001', '\u001b', '\u007f', '\t', '\n', '\r', '\u2028', '\ufeff', '\uffff') },
  { weight: 2, arbitrary: fc.constantFrom('\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uD83D\uDE00', 'é', '漢') },
);
const hostileString = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: hostileUnit, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 120_000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '__proto__', 'constructor', 'null', '%00', '\\u0000', '{}', '1e309') },
);
const recipient = fc.oneof(fc.constantFrom(...Object.values(SAMPLES).map((s) => s.to)), hostileString);
const scalar = fc.oneof(hostileString, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(1e300), fc.constant(-0));
const metadataKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'order', 'a.b', 'k-1'), hostileString);
const metadata = fc.oneof(
  fc.dictionary(metadataKey, scalar, { maxKeys: 25 }),
  fc.dictionary(metadataKey, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
  hostileString,
);

/**
 * A message body near the schema: a valid sample (its body made unique, so content dedup does not
 * answer everything) with up to three fields replaced by hostile values, removed, or added.
 */
const field = fc.constantFrom('channel', 'to', 'subject', 'body', 'priority', 'correlationId', 'metadata', 'extra', '__proto__', 'constructor');
const fieldValue = fc.oneof(hostileString, scalar, metadata, recipient);
const nearMessage = fc
  .tuple(fc.constantFrom(...Object.values(SAMPLES)), fc.nat(), fc.array(fc.tuple(field, fc.option(fieldValue, { freq: 4 })), { maxLength: 3 }))
  .map(([base, n, mutations]) => {
    const m: Record<string, unknown> = { ...base, body: `${base.body} #${n}` };
    for (const [k, v] of mutations) {
      if (v === null) delete m[k];
      else Object.defineProperty(m, k, { value: v, enumerable: true, configurable: true, writable: true }); // own `__proto__` too
    }
    return m;
  });

/** JSON text: near the schema, any JSON value, or not JSON at all. */
const jsonText = fc.oneof(
  { weight: 6, arbitrary: nearMessage.map((m) => JSON.stringify(m)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.constantFrom('{"channel":', '[]', 'null', '"str"', '{"__proto__":{"x":1},"channel":"sms","to":"+14155550100","body":"b"}', '{"a":1}{"b":2}', '\ufeff{}', `{"d":${'['.repeat(5000)}`) },
  { weight: 1, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.integer({ min: 200_000, max: 400_000 }).map((n) => JSON.stringify({ ...SAMPLES.email, body: 'x'.repeat(n) })) },
);

type Encoding = 'identity' | 'gzip' | 'deflate' | 'br' | 'garbage-gzip' | 'truncated-gzip' | 'compress' | 'gzip, gzip';
const encoding = fc.oneof(
  { weight: 8, arbitrary: fc.constant<Encoding>('identity') },
  { weight: 3, arbitrary: fc.constantFrom<Encoding>('gzip', 'deflate', 'br', 'garbage-gzip', 'truncated-gzip', 'compress', 'gzip, gzip') },
);

function encode(text: string, enc: Encoding, garbage: Uint8Array): { bytes: Buffer; header: string | undefined } {
  const raw = Buffer.from(text, 'utf8');
  switch (enc) {
    case 'identity': return { bytes: raw, header: undefined };
    case 'gzip': return { bytes: gzipSync(raw), header: 'gzip' };
    case 'deflate': return { bytes: deflateSync(raw), header: 'deflate' };
    case 'br': return { bytes: brotliCompressSync(raw), header: 'br' };
    case 'garbage-gzip': return { bytes: Buffer.from(garbage), header: 'gzip' };
    case 'truncated-gzip': { const z = gzipSync(raw); return { bytes: z.subarray(0, Math.max(1, z.length >> 1)), header: 'gzip' }; }
    case 'gzip, gzip': return { bytes: gzipSync(gzipSync(raw)), header: 'gzip, gzip' };
    case 'compress': return { bytes: raw, header: 'compress' };
  }
}

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  { weight: 3, arbitrary: fc.constantFrom(
    'application/json; charset=utf-8', 'application/json; charset=UTF-16', 'application/json; charset=latin1', 'application/json; charset=utf-99',
    'application/problem+json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json;;;', '', '*/*',
  ) },
);

// Paths: the real ones, ids good and bad, malformed percent-encoding, traversal.
const pathChar = fc.constantFrom(...'abcdefABCDEF0123456789-._~!$&\'()*+,;=:@%/'.split(''));
const pathSegment = fc.oneof(
  fc.uuid().map((u) => u),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.constantFrom('%ZZ', '%', '%E0%A4%A', '%C0%AF', '%00', '..%2f..%2f', '%2e%2e', '%FF%FE', 'not-a-uuid', ''),
  fc.string({ unit: pathChar, maxLength: 60 }),
);
const path = fc.oneof(
  { weight: 12, arbitrary: fc.constant('/v1/messages') },
  { weight: 3, arbitrary: pathSegment.map((s) => `/v1/messages/${s}`) },
  { weight: 1, arbitrary: fc.constantFrom('/', '/v1', '/v1/messages/', '//v1//messages', '/health', '/v1/messages?x=%ZZ', '/V1/MESSAGES') },
  { weight: 1, arbitrary: pathSegment.map((s) => `/${s}`) },
);
const method = fc.oneof(
  { weight: 8, arbitrary: fc.constant('POST') },
  { weight: 3, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'FOO', 'PROPFIND') },
);
// Header values Node lets a client send: latin1 without CR/LF/NUL.
const headerUnit = fc.oneof(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }), fc.constantFrom('\t', 'é', 'ÿ', '\u0080', ' '));
const idempotencyKey = fc.option(fc.oneof(fc.string({ unit: headerUnit, maxLength: 300 }), fc.uuid(), fc.constant('k'.repeat(256))), { freq: 3 });

// Mostly the valid key (so requests reach routing and validation), sometimes none or a bad one.
const authorization = fc.oneof(
  { weight: 10, arbitrary: fc.constant<string | null>(AUTH.authorization) },
  { weight: 1, arbitrary: fc.constantFrom<string | null>(null, 'Bearer ', 'Bearer ca_live_nope', 'Basic YTpi', `Bearer ${'k'.repeat(5000)}`) },
);

const requestArb = fc.record({ method, path, contentType, encoding, idempotencyKey, authorization, text: jsonText, garbage: fc.uint8Array({ maxLength: 64 }) });

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

type GeneratedRequest = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

function send(port: number, r: GeneratedRequest): Promise<Answer> {
  const { bytes, header } = encode(r.text, r.encoding, r.garbage);
  const headers: Record<string, string | number> = { 'content-length': bytes.length, connection: 'close' };
  if (r.contentType) headers['content-type'] = r.contentType;
  if (header) headers['content-encoding'] = header;
  if (r.idempotencyKey !== null) headers['idempotency-key'] = r.idempotencyKey;
  if (r.authorization !== null) headers.authorization = r.authorization;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(bytes);
  });
}

test(`fuzz: ${RUNS * BATCH} generated requests, never a 5xx, every 4xx a problem+json (seed ${SEED})`, { timeout: 240_000 }, async (t) => {
  const h = await startRouter(t, { brokers: DEAD, producer: testProducer(DEAD, { retries: 0 }) });
  const port = Number(new URL(h.url).port);
  const statuses = new Map<number, number>();
  const started = Date.now();

  const details = await fc.check(
    fc.asyncProperty(fc.array(requestArb, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
      await Promise.all(batch.map(async (r) => {
        let res: Answer;
        try {
          res = await send(port, r);
        } catch (err) {
          throw new Error(`${r.method} ${r.path}: no answer (${(err as Error).message})`);
        }
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const what = `${r.method} ${r.path} → ${res.status} ${res.body.slice(0, 300)}`;
        assert.ok(res.status >= 200 && res.status < 500, what);
        assert.equal(res.headers['x-content-type-options'], 'nosniff', what);
        if (res.status >= 400) {
          assert.match(String(res.headers['content-type']), /^application\/problem\+json/, what);
          if (r.method !== 'HEAD') {
            const problem = JSON.parse(res.body) as { status: unknown; code: unknown; type: unknown; title: unknown };
            assert.equal(problem.status, res.status, what);
            assert.equal(typeof problem.code, 'string', what);
            assert.equal(typeof problem.type, 'string', what);
            assert.equal(typeof problem.title, 'string', what);
          }
        }
      }));
    }),
    { seed: SEED, numRuns: RUNS },
  );
  if (details.failed) assert.fail(`${fc.defaultReportMessage(details) ?? ''}\nerror: ${String((details.errorInstance as Error | null)?.message)}`);
  t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))} in ${Date.now() - started} ms`);
  // The generator must reach past validation: some requests are accepted, many refused for many reasons.
  assert.ok((statuses.get(202) ?? 0) > 0, 'some generated messages were accepted');
  assert.ok([400, 401, 404, 405, 413, 415].every((s) => (statuses.get(s) ?? 0) > 0), `every refusal kind reached: ${JSON.stringify([...statuses])}`);
});
