import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDb } from '@ca/postgres';
import { testProducer } from '../support/kafka';
import { AUTH, defer, postMessage, SAMPLES, startRouter } from '../support/router-harness';

// No Kafka: every request here is refused after authentication (which reads the keys table) and
// before anything is stored. deadStoreRouter has no PostgreSQL either: it proves a store that cannot
// take the message means 503, never 202.
const DEAD = '127.0.0.1:1';

async function router(t: import('node:test').TestContext) {
  return startRouter(t, { brokers: DEAD, producer: testProducer(DEAD, { retries: 0 }) });
}

async function deadStoreRouter(t: import('node:test').TestContext) {
  const db = createDb({ url: `postgres://postgres@${DEAD}/nowhere`, schema: 'router' });
  defer(t, () => db.destroy());
  return startRouter(t, { brokers: DEAD, db, producer: testProducer(DEAD, { retries: 0 }) });
}

function fields(body: Record<string, unknown>): string[] {
  return (body.errors as Array<{ field: string }>).map((e) => e.field).sort();
}

const INVALID: Array<[string, Record<string, unknown>, string[]]> = [
  ['unknown channel', { channel: 'fax', to: 'x', body: 'hi' }, ['channel']],
  ['bad email', { ...SAMPLES.email, to: 'not-an-email' }, ['to']],
  ['bad E.164 for sms', { ...SAMPLES.sms, to: '4155550100' }, ['to']],
  ['bad E.164 for whatsapp', { ...SAMPLES.whatsapp, to: '+0123' }, ['to']],
  ['bad push token', { ...SAMPLES.push, to: 'short token!' }, ['to']],
  ['email without subject', { channel: 'email', to: 'a@b.co', body: 'x' }, ['subject']],
  ['subject on sms', { ...SAMPLES.sms, subject: 'no' }, ['subject']],
  ['sms body over 1600', { ...SAMPLES.sms, body: 'x'.repeat(1601) }, ['body']],
  ['whatsapp body over 4096', { ...SAMPLES.whatsapp, body: 'x'.repeat(4097) }, ['body']],
  ['push body over 4096', { ...SAMPLES.push, body: 'x'.repeat(4097) }, ['body']],
  ['empty body', { ...SAMPLES.email, body: '' }, ['body']],
  ['unknown field', { ...SAMPLES.email, cc: 'x@y.z' }, ['cc']],
  ['bad priority', { ...SAMPLES.email, priority: 'urgent' }, ['priority']],
  ['metadata with too many keys', { ...SAMPLES.email, metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, i])) }, ['metadata']],
  ['metadata with a nested value', { ...SAMPLES.email, metadata: { order: { id: 1 } } }, ['metadata.order']],
  ['correlationId too long', { ...SAMPLES.email, correlationId: 'c'.repeat(129) }, ['correlationId']],
];

test('each kind of invalid field is a 400 problem naming that field', async (t) => {
  const { url } = await router(t);
  for (const [name, body, expected] of INVALID) {
    const res = await postMessage(url, body);
    assert.equal(res.status, 400, name);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, name);
    assert.equal(res.body.code, 'VALIDATION_FAILED', name);
    assert.deepEqual(fields(res.body), expected, name);
    for (const e of res.body.errors as Array<Record<string, unknown>>) {
      assert.equal(typeof e.message, 'string', name);
      assert.equal(typeof e.type, 'string', name);
    }
  }
});

test('all invalid fields are named at once', async (t) => {
  const { url } = await router(t);
  const res = await postMessage(url, { channel: 'sms', to: 'nope', subject: 's', body: '', priority: 'urgent', correlationId: 'c'.repeat(200), extra: 1 });
  assert.equal(res.status, 400);
  assert.deepEqual(fields(res.body), ['body', 'correlationId', 'extra', 'priority', 'subject', 'to']);
});

test('a body that is not JSON is 415; malformed JSON is 400', async (t) => {
  const { url } = await router(t);
  const text = await fetch(`${url}/v1/messages`, { method: 'POST', headers: { ...AUTH, 'content-type': 'text/plain' }, body: 'hello' });
  assert.equal(text.status, 415);
  assert.equal(((await text.json()) as { code: string }).code, 'UNSUPPORTED_MEDIA_TYPE');
  const malformed = await fetch(`${url}/v1/messages`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{"channel":' });
  assert.equal(malformed.status, 400);
  assert.equal(((await malformed.json()) as { code: string }).code, 'MALFORMED_JSON');
});

test('an Idempotency-Key that is empty, too long or not printable is 400', async (t) => {
  const { url } = await router(t);
  for (const key of ['', 'k'.repeat(256), 'caf\u00e9']) {
    const res = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json', 'idempotency-key': Buffer.from(key, 'utf8').toString('latin1') },
      body: JSON.stringify(SAMPLES.email),
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, 'IDEMPOTENCY_KEY_INVALID');
  }
});

test('PostgreSQL unreachable: a valid message is refused with 503 and Retry-After, never 202', async (t) => {
  const { url } = await deadStoreRouter(t);
  for (const body of [SAMPLES.email, SAMPLES.sms]) {
    const res = await postMessage(url, body);
    assert.equal(res.status, 503);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(res.body.code, 'STORAGE_UNAVAILABLE');
    assert.ok(Number(res.headers.get('retry-after')) > 0);
    assert.equal(res.body.stack, undefined);
  }
  const keyed = await postMessage(url, SAMPLES.push, { 'idempotency-key': 'k-1' });
  assert.equal(keyed.status, 503);
  const read = await fetch(`${url}/v1/messages/00000000-0000-4000-8000-000000000000`, { headers: AUTH });
  assert.equal(read.status, 503);
});

test('GET /v1/messages/:id with a non-uuid id is 400; unknown routes are 404 problems', async (t) => {
  const { url } = await router(t);
  const bad = await fetch(`${url}/v1/messages/not-a-uuid`, { headers: AUTH });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { code: string }).code, 'VALIDATION_FAILED');
  const missing = await fetch(`${url}/v2/nothing`);
  assert.equal(missing.status, 404);
  assert.match(missing.headers.get('content-type') ?? '', /^application\/problem\+json/);
});
