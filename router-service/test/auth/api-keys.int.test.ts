import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '@ca/testing';
import { useBroker } from '../support/kafka';
import { AUTH, call, manualClock, postMessage, SAMPLES, startRouter, TEST_API_KEY, testDb, testMerchant } from '../support/router-harness';

const brokers = useBroker();
const UNKNOWN_ID = '00000000-0000-4000-8000-0000000000ff';

function assertProblem(res: { status: number; headers: Headers; body: Record<string, unknown> }, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(res.body.code, code);
}

test('no, malformed, huge, non-ASCII or unknown keys are 401 problems with a Bearer challenge; nothing is accepted', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const missing = await call(h.url, 'GET', `/v1/messages/${UNKNOWN_ID}`, {});
  assertProblem(missing, 401, 'UNAUTHORIZED');
  assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="communication-aggregator"');

  const bad = [
    'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'Bearer short', `Bearer ${'k'.repeat(5000)}`,
    `Bearer ${Buffer.from(`ca_live_${'é'.repeat(30)}`, 'utf8').toString('latin1')}`, `Bearer ${TEST_API_KEY} extra`,
    'Bearer ca_live_wellformedButUnknown0123456789abcdef',
  ];
  for (const authorization of bad) {
    const res = await postMessage(h.url, SAMPLES.email, { authorization });
    assertProblem(res, 401, 'UNAUTHORIZED');
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="communication-aggregator", error="invalid_token"/);
    assert.equal(JSON.stringify(res.body).includes('wellformedButUnknown'), false, 'the key is not echoed');
  }
  const count = await h.db('messages').count<{ n: string }>('* as n').first();
  assert.equal(Number(count?.n), 0);
});

test('a key without the needed scope is 403 with error="insufficient_scope"', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const reader = await testMerchant(h.db, ['read']);
  const sender = await testMerchant(h.db, ['send']);
  const denied = await postMessage(h.url, SAMPLES.email, reader.headers);
  assertProblem(denied, 403, 'INSUFFICIENT_SCOPE');
  assert.equal(denied.headers.get('www-authenticate'), 'Bearer realm="communication-aggregator", error="insufficient_scope", scope="send"');
  assertProblem(await call(h.url, 'GET', `/v1/messages/${UNKNOWN_ID}`, sender.headers), 403, 'INSUFFICIENT_SCOPE');
  assertProblem(await call(h.url, 'GET', '/v1/keys', sender.headers), 403, 'INSUFFICIENT_SCOPE');
  assertProblem(await call(h.url, 'GET', `/v1/messages/${UNKNOWN_ID}`, reader.headers), 404, 'MESSAGE_NOT_FOUND');
  assert.equal((await postMessage(h.url, SAMPLES.email, sender.headers)).status, 202);
});

test('an admin key creates a key shown once (ca_live_ prefix), stored only as a hash, listed without its secret', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const created = await call(h.url, 'POST', '/v1/keys', AUTH, { name: 'ci', scopes: ['send', 'read'] });
  assert.equal(created.status, 201);
  const key = created.body.key as string;
  assert.match(key, /^ca_live_[A-Za-z0-9_-]{51}$/);
  assert.deepEqual(created.body.scopes, ['send', 'read']);
  assert.ok(key.startsWith(created.body.prefix as string));

  const rows = await h.db('api_keys').select('*');
  assert.equal(JSON.stringify(rows).includes(key.slice(16)), false, 'no secret at rest');
  const listed = await call(h.url, 'GET', '/v1/keys', AUTH);
  assert.equal(listed.status, 200);
  assert.equal(JSON.stringify(listed.body).includes(key.slice(16)), false, 'no secret in lists');
  assert.equal((listed.body.keys as unknown[]).length, 2);

  assert.equal((await postMessage(h.url, SAMPLES.sms, { authorization: `Bearer ${key}` })).status, 202);
  assertProblem(await call(h.url, 'POST', '/v1/keys', AUTH, { scopes: ['root'] }), 400, 'VALIDATION_FAILED');
  assertProblem(await call(h.url, 'POST', '/v1/keys', AUTH, {}), 400, 'VALIDATION_FAILED');
});

test('rotation: old and new keys both work during the overlap, then only the new one', async (t) => {
  const clock = manualClock();
  const h = await startRouter(t, { brokers: brokers(), clock, settings: { apiKeyCacheMs: 0 } });
  const merchant = await testMerchant(h.db, ['send', 'read', 'admin']);
  const rotated = await call(h.url, 'POST', `/v1/keys/${merchant.keyId}/rotate`, merchant.headers, { overlapSeconds: 3600 });
  assert.equal(rotated.status, 201);
  const fresh = { authorization: `Bearer ${rotated.body.key as string}` };
  assert.equal((rotated.body.previous as { expiresAt: string }).expiresAt, new Date(clock.now().getTime() + 3_600_000).toISOString());
  assertProblem(await call(h.url, 'GET', `/v1/messages/${UNKNOWN_ID}`, merchant.headers), 404, 'MESSAGE_NOT_FOUND');
  assertProblem(await call(h.url, 'GET', `/v1/messages/${UNKNOWN_ID}`, fresh), 404, 'MESSAGE_NOT_FOUND');
  clock.advance(3600);
  assertProblem(await call(h.url, 'GET', `/v1/messages/${UNKNOWN_ID}`, merchant.headers), 401, 'UNAUTHORIZED');
  assertProblem(await call(h.url, 'GET', `/v1/messages/${UNKNOWN_ID}`, fresh), 404, 'MESSAGE_NOT_FOUND');
});

test('a key that expires is refused from that second on', async (t) => {
  const clock = manualClock();
  const h = await startRouter(t, { brokers: brokers(), clock });
  const created = await call(h.url, 'POST', '/v1/keys', AUTH, { scopes: ['read'], expiresInSeconds: 60 });
  const headers = { authorization: `Bearer ${created.body.key as string}` };
  assertProblem(await call(h.url, 'GET', `/v1/messages/${UNKNOWN_ID}`, headers), 404, 'MESSAGE_NOT_FOUND');
  clock.advance(60);
  assertProblem(await call(h.url, 'GET', `/v1/messages/${UNKNOWN_ID}`, headers), 401, 'UNAUTHORIZED');
});

test('a revoked key is refused within 1 s on every router process', async (t) => {
  const { db } = await testDb(t);
  const a = await startRouter(t, { brokers: brokers(), db });
  const b = await startRouter(t, { brokers: brokers(), db });
  const merchant = await testMerchant(db, ['read', 'admin']);
  const probe = async (url: string) => (await call(url, 'GET', `/v1/messages/${UNKNOWN_ID}`, merchant.headers)).status;
  assert.equal(await probe(a.url), 404);
  assert.equal(await probe(b.url), 404); // b now holds the key in its cache

  const revoked = await call(a.url, 'DELETE', `/v1/keys/${merchant.keyId}`, merchant.headers);
  assert.equal(revoked.status, 200);
  assert.ok(revoked.body.revokedAt);
  const start = Date.now();
  // Each process trusts a looked-up key for API_KEY_CACHE_MS (500 ms by default), no longer.
  await waitFor('both routers to refuse the revoked key', async () => (await probe(a.url)) === 401 && (await probe(b.url)) === 401, 1000, 20);
  assert.ok(Date.now() - start < 1000);
});

test("another merchant's key ids are not found: it can neither rotate nor revoke them", async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const other = await testMerchant(h.db, ['admin']);
  const mine = await testMerchant(h.db, ['admin']);
  assertProblem(await call(h.url, 'DELETE', `/v1/keys/${other.keyId}`, mine.headers), 404, 'API_KEY_NOT_FOUND');
  assertProblem(await call(h.url, 'POST', `/v1/keys/${other.keyId}/rotate`, mine.headers, {}), 404, 'API_KEY_NOT_FOUND');
  const listed = await call(h.url, 'GET', '/v1/keys', mine.headers);
  assert.deepEqual((listed.body.keys as Array<{ id: string }>).map((k) => k.id), [mine.keyId]);
  assert.equal((await call(h.url, 'GET', '/v1/keys', other.headers)).status, 200, 'the other key still works');
});

test('POST /internal/v1/keys/introspect answers services holding SERVICE_TOKEN only', async (t) => {
  const token = 'service-token-0123456789abcdef';
  const h = await startRouter(t, { brokers: brokers(), settings: { serviceToken: token } });
  const m = await testMerchant(h.db, ['read']);
  const service = { authorization: `Bearer ${token}` };
  assertProblem(await call(h.url, 'POST', '/internal/v1/keys/introspect', {}, { key: m.key }), 401, 'UNAUTHORIZED');
  assertProblem(await call(h.url, 'POST', '/internal/v1/keys/introspect', m.headers, { key: m.key }), 401, 'UNAUTHORIZED');
  const ok = await call(h.url, 'POST', '/internal/v1/keys/introspect', service, { key: m.key });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body, { tenantId: m.tenantId, scopes: ['read'] });
  assertProblem(await call(h.url, 'POST', '/internal/v1/keys/introspect', service, { key: 'ca_live_unknownButWellFormed_0123456789' }), 401, 'UNAUTHORIZED');
});
