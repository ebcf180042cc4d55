import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestHash } from '../../src/dedup/hashing';
import { claimIdempotencyKey } from '../../src/dedup/idempotency-keys';
import { useBroker } from '../support/kafka';
import { countRows, manualClock, postMessage, SAMPLES, startRouter, TEST_TENANT_ID } from '../support/router-harness';

const brokers = useBroker();

test('same key and body: the original 202 is replayed and only one message exists', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const first = await postMessage(h.url, SAMPLES.email, { 'idempotency-key': 'order-42' });
  assert.equal(first.status, 202);
  assert.equal(first.headers.get('idempotent-replayed'), null);
  // Same body with keys in another order and the default priority spelled out: same request.
  const { subject, body, to, channel } = SAMPLES.email;
  const again = await postMessage(h.url, { body, subject, to, channel, priority: 'medium' }, { 'idempotency-key': 'order-42' });
  assert.equal(again.status, 202);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(again.body, first.body);
  assert.equal(again.headers.get('location'), `/v1/messages/${(first.body as { id: string }).id}`);
  assert.equal(await countRows(h.db, 'messages'), 1);
  assert.equal(await countRows(h.db, 'outbox'), 1);
});

test('same key with another body is 422 IDEMPOTENCY_KEY_REUSED', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  assert.equal((await postMessage(h.url, SAMPLES.sms, { 'idempotency-key': 'k1' })).status, 202);
  const reused = await postMessage(h.url, { ...SAMPLES.sms, body: 'something else' }, { 'idempotency-key': 'k1' });
  assert.equal(reused.status, 422);
  assert.equal(reused.body.code, 'IDEMPOTENCY_KEY_REUSED');
  assert.equal(await countRows(h.db, 'messages'), 1);
});

test('a key in flight is 409 IDEMPOTENCY_KEY_IN_FLIGHT; once its lock lapses the key can be claimed again', async (t) => {
  const clock = manualClock();
  const h = await startRouter(t, { brokers: brokers(), clock });
  // Another request (maybe in another process) holds the claim and has not finished.
  const held = await claimIdempotencyKey(h.db, { tenantId: TEST_TENANT_ID, key: 'held', hash: requestHash({ ...SAMPLES.push, priority: 'medium' }), now: clock.now(), ttlSeconds: 86_400 });
  assert.equal(held.kind, 'claimed');

  const busy = await postMessage(h.url, SAMPLES.push, { 'idempotency-key': 'held' });
  assert.equal(busy.status, 409);
  assert.equal(busy.body.code, 'IDEMPOTENCY_KEY_IN_FLIGHT');
  assert.ok(Number(busy.headers.get('retry-after')) >= 1);
  assert.equal(await countRows(h.db, 'messages'), 0);

  clock.advance(31); // the holder crashed: its 30 s lock passed
  const taken = await postMessage(h.url, SAMPLES.push, { 'idempotency-key': 'held' });
  assert.equal(taken.status, 202);
  assert.equal(await countRows(h.db, 'messages'), 1);
});

test('a request that fails after claiming releases its key; an expired key starts over', async (t) => {
  const clock = manualClock();
  const h = await startRouter(t, { brokers: brokers(), clock, settings: { rateLimitPerMinute: 1, idempotencyTtlSeconds: 600 } });
  assert.equal((await postMessage(h.url, SAMPLES.whatsapp, { 'idempotency-key': 'a' })).status, 202);
  const limited = await postMessage(h.url, { ...SAMPLES.whatsapp, body: 'second' }, { 'idempotency-key': 'b' });
  assert.equal(limited.status, 429);
  assert.equal(await countRows(h.db, 'idempotency_keys'), 1, 'the 429 released key b');
  clock.advance(60);
  assert.equal((await postMessage(h.url, { ...SAMPLES.whatsapp, body: 'second' }, { 'idempotency-key': 'b' })).status, 202);

  clock.advance(601); // key a expired: the same key now names a new request
  const fresh = await postMessage(h.url, { ...SAMPLES.whatsapp, body: 'third' }, { 'idempotency-key': 'a' });
  assert.equal(fresh.status, 202);
  assert.equal(fresh.headers.get('idempotent-replayed'), null);
  assert.equal(await countRows(h.db, 'messages'), 3);
});

test('100 concurrent requests with one key: one message; every 202 has the same id, the rest are 409 in flight', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const responses = await Promise.all(Array.from({ length: 100 }, () => postMessage(h.url, SAMPLES.email, { 'idempotency-key': 'burst' })));
  const statuses = new Set(responses.map((r) => r.status));
  for (const s of statuses) assert.ok(s === 202 || s === 409, `unexpected status ${s}`);
  const accepted = responses.filter((r) => r.status === 202);
  assert.ok(accepted.length >= 1);
  assert.equal(new Set(accepted.map((r) => (r.body as { id: string }).id)).size, 1);
  assert.equal(accepted.filter((r) => r.headers.get('idempotent-replayed') === null).length, 1, 'exactly one original 202');
  for (const r of responses.filter((x) => x.status === 409)) assert.equal(r.body.code, 'IDEMPOTENCY_KEY_IN_FLIGHT');
  assert.equal(await countRows(h.db, 'messages'), 1);
  assert.equal(await countRows(h.db, 'outbox'), 1);
});

test('with a key, the same content under another key is a second message (no content dedup)', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  assert.equal((await postMessage(h.url, SAMPLES.sms, { 'idempotency-key': 'x1' })).status, 202);
  assert.equal((await postMessage(h.url, SAMPLES.sms, { 'idempotency-key': 'x2' })).status, 202);
  assert.equal(await countRows(h.db, 'messages'), 2);
});
