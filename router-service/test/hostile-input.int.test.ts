import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { testProducer } from './support/kafka';
import { AUTH, countRows, postMessage, SAMPLES, startRouter } from './support/router-harness';

// Real PostgreSQL: before the fix each of these reached it and came back as a 500. Kafka is not
// needed (the outbox holds accepted messages), so the relay points at a dead address.
const DEAD = '127.0.0.1:1';
const LONE = '\uD800';

async function router(t: import('node:test').TestContext) {
  return startRouter(t, { brokers: DEAD, producer: testProducer(DEAD, { retries: 0 }) });
}

async function expectProblem(res: Response, status: number, code: string, what: string): Promise<Record<string, unknown>> {
  assert.equal(res.status, status, what);
  assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8', what);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(body.code, code, what);
  return body;
}

const post = (url: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/messages`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...AUTH, ...headers } });

test('NUL, other control characters and lone surrogates in any text field: 400 naming the field, nothing stored', async (t) => {
  const h = await router(t);
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['NUL in body', { ...SAMPLES.sms, body: 'code\u00001234' }, 'body'],
    ['NUL in subject', { ...SAMPLES.email, subject: 'Hi\u0000' }, 'subject'],
    ['NUL in correlationId', { ...SAMPLES.sms, correlationId: 'c-\u0000' }, 'correlationId'],
    ['NUL in email recipient', { ...SAMPLES.email, to: 'jane\u0000@example.com' }, 'to'],
    ['NUL in a metadata value', { ...SAMPLES.sms, metadata: { order: 'o\u0000' } }, 'metadata.order'],
    ['lone surrogate in a metadata value', { ...SAMPLES.sms, metadata: { order: `o${LONE}` } }, 'metadata.order'],
    ['lone surrogate in a metadata key', { ...SAMPLES.sms, metadata: { [`o${LONE}`]: 'x' } }, `metadata.o${LONE}`],
    ['lone surrogate in body', { ...SAMPLES.push, body: `tap ${LONE}` }, 'body'],
    ['CR LF in subject', { ...SAMPLES.email, subject: 'Hi\r\nBcc: x@example.com' }, 'subject'],
  ];
  for (const [name, body, field] of cases) {
    const res = await postMessage(h.url, body);
    assert.equal(res.status, 400, name);
    assert.equal(res.body.code, 'VALIDATION_FAILED', name);
    assert.deepEqual([...new Set((res.body.errors as Array<{ field: string }>).map((e) => e.field))], [field], name);
  }
  assert.equal(await countRows(h.db, 'messages'), 0);
  // Tabs and line breaks in a body, and astral characters, are text: accepted.
  const ok = await postMessage(h.url, { ...SAMPLES.email, body: 'Line 1\r\n\tLine 2 \uD83D\uDE00', metadata: { emoji: '\uD83D\uDE00' } });
  assert.equal(ok.status, 202);
});

test('__proto__, constructor and prototype keys are refused with 400 naming them, not dropped', async (t) => {
  const h = await router(t);
  const raw = (metadata: string) => `{"channel":"sms","to":"+14155550100","body":"hi","metadata":${metadata}}`;
  for (const [json, field] of [
    [raw('{"__proto__":"x"}'), 'metadata.__proto__'],
    [raw('{"constructor":"x"}'), 'metadata.constructor'],
    [raw('{"prototype":"x","ok":"y"}'), 'metadata.prototype'],
    ['{"__proto__":{"admin":true},"channel":"sms","to":"+14155550100","body":"hi"}', '__proto__'],
  ] as const) {
    const body = await expectProblem(await post(h.url, json), 400, 'VALIDATION_FAILED', json);
    assert.deepEqual((body.errors as Array<{ field: string }>).map((e) => e.field), [field], json);
  }
  assert.equal(await countRows(h.db, 'messages'), 0);
});

test('corrupt or truncated gzip, bad percent-encoding, unknown charset: 4xx problems, never 500', async (t) => {
  const h = await router(t);
  await expectProblem(await post(h.url, Buffer.from('definitely not gzip'), { 'content-encoding': 'gzip' }), 400, 'MALFORMED_CONTENT_ENCODING', 'corrupt gzip');
  const truncated = gzipSync(JSON.stringify({ ...SAMPLES.email, body: 'x'.repeat(2000) })).subarray(0, 30);
  await expectProblem(await post(h.url, truncated, { 'content-encoding': 'gzip' }), 400, 'MALFORMED_CONTENT_ENCODING', 'truncated gzip');
  await expectProblem(await post(h.url, '{}', { 'content-encoding': 'x-custom' }), 415, 'UNSUPPORTED_ENCODING', 'unknown encoding');
  await expectProblem(await post(h.url, '{}', { 'content-type': 'application/json; charset=utf-99' }), 415, 'UNSUPPORTED_CHARSET', 'unknown charset');
  await expectProblem(await fetch(`${h.url}/v1/messages/%ZZ`, { headers: AUTH }), 400, 'MALFORMED_PATH', '%ZZ');
  await expectProblem(await fetch(`${h.url}/v1/messages/%E0%A4%A`, { headers: AUTH }), 400, 'MALFORMED_PATH', 'truncated utf-8 escape');
  // A well-formed gzip body is accepted.
  assert.equal((await post(h.url, gzipSync(JSON.stringify(SAMPLES.sms)), { 'content-encoding': 'gzip' })).status, 202);
});

test('unknown routes are 404 and wrong methods 405 with Allow', async (t) => {
  const h = await router(t);
  await expectProblem(await fetch(`${h.url}/v1/nothing`, { headers: AUTH }), 404, 'NOT_FOUND', '404');
  const list = await fetch(`${h.url}/v1/messages`, { method: 'PUT', headers: AUTH });
  assert.equal(list.headers.get('allow'), 'GET, HEAD, POST');
  await expectProblem(list, 405, 'METHOD_NOT_ALLOWED', 'PUT /v1/messages');
  const patch = await fetch(`${h.url}/v1/messages/00000000-0000-4000-8000-000000000000`, { method: 'PATCH', headers: AUTH });
  assert.equal(patch.headers.get('allow'), 'DELETE, GET, HEAD');
  await expectProblem(patch, 405, 'METHOD_NOT_ALLOWED', 'PATCH /v1/messages/:id');
});
