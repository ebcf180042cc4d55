import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEADERS } from '@ca/contracts';
import { readRecords, useBroker } from '../support/kafka';
import { call, postMessage, SAMPLES, startRouter, testMerchant } from '../support/router-harness';

const brokers = useBroker();

test("two merchants cannot read each other's messages: the other's id is 404, never 403", async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const a = await testMerchant(h.db);
  const b = await testMerchant(h.db);
  const sent = await postMessage(h.url, SAMPLES.email, a.headers);
  assert.equal(sent.status, 202);
  const id = sent.body.id as string;
  const foreign = await call(h.url, 'GET', `/v1/messages/${id}`, b.headers);
  assert.equal(foreign.status, 404);
  assert.equal(foreign.body.code, 'MESSAGE_NOT_FOUND');
  const unknown = await call(h.url, 'GET', '/v1/messages/00000000-0000-4000-8000-0000000000ee', b.headers);
  assert.deepEqual(Object.keys(foreign.body).sort(), Object.keys(unknown.body).sort(), 'a foreign id looks exactly like an unknown one');
  assert.notEqual((await call(h.url, 'GET', `/v1/messages/${id}`, a.headers)).status, 404);
});

test('idempotency keys are per merchant: the same key from another merchant is a new message, not a replay', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const a = await testMerchant(h.db);
  const b = await testMerchant(h.db);
  const first = await postMessage(h.url, SAMPLES.sms, { ...a.headers, 'idempotency-key': 'order-123' });
  const other = await postMessage(h.url, SAMPLES.sms, { ...b.headers, 'idempotency-key': 'order-123' });
  assert.equal(first.status, 202);
  assert.equal(other.status, 202);
  assert.equal(other.headers.get('idempotent-replayed'), null);
  assert.notEqual(other.body.id, first.body.id);
  // A different body under b's key is b's own reuse, and a's replay still answers a's message.
  assert.equal((await postMessage(h.url, { ...SAMPLES.sms, body: 'other' }, { ...b.headers, 'idempotency-key': 'order-123' })).status, 422);
  const replay = await postMessage(h.url, SAMPLES.sms, { ...a.headers, 'idempotency-key': 'order-123' });
  assert.equal(replay.body.id, first.body.id);
});

test("content dedup is per merchant: another merchant's identical message is accepted, no duplicateOf oracle", async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const a = await testMerchant(h.db);
  const b = await testMerchant(h.db);
  const first = await postMessage(h.url, SAMPLES.whatsapp, a.headers);
  const same = await postMessage(h.url, SAMPLES.whatsapp, b.headers);
  assert.equal(first.status, 202);
  assert.equal(same.status, 202);
  assert.equal(JSON.stringify(same.body).includes(first.body.id as string), false);
  const dup = await postMessage(h.url, SAMPLES.whatsapp, a.headers);
  assert.equal(dup.status, 409);
  assert.equal(dup.body.duplicateOf, first.body.id);
});

test("one merchant cannot use up another's per-recipient rate limit", async (t) => {
  const h = await startRouter(t, { brokers: brokers(), settings: { rateLimitPerMinute: 2 } });
  const a = await testMerchant(h.db);
  const b = await testMerchant(h.db);
  for (let i = 0; i < 2; i++) assert.equal((await postMessage(h.url, { ...SAMPLES.sms, body: `a${i}` }, a.headers)).status, 202);
  assert.equal((await postMessage(h.url, { ...SAMPLES.sms, body: 'a2' }, a.headers)).status, 429);
  assert.equal((await postMessage(h.url, { ...SAMPLES.sms, body: 'b0' }, b.headers)).status, 202);
});

test('every row and the Kafka record carry the tenant', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const a = await testMerchant(h.db);
  const sent = await postMessage(h.url, SAMPLES.push, { ...a.headers, 'idempotency-key': 'k-1' });
  assert.equal(sent.status, 202);
  const row = await h.db('messages').where({ id: sent.body.id as string }).first<{ tenant_id: string }>();
  assert.equal(row?.tenant_id, a.tenantId);
  const key = await h.db('idempotency_keys').where({ key: 'k-1' }).first<{ tenant_id: string }>();
  assert.equal(key?.tenant_id, a.tenantId);
  const counter = await h.db('rate_limits').first<{ tenant_id: string }>();
  assert.equal(counter?.tenant_id, a.tenantId);
  const unkeyed = await postMessage(h.url, SAMPLES.email, a.headers);
  const claim = await h.db('dedup').where({ message_id: unkeyed.body.id as string }).first<{ tenant_id: string }>();
  assert.equal(claim?.tenant_id, a.tenantId);

  h.service.relay.start();
  const records = await readRecords(brokers(), [h.topics.send('push')], 1);
  assert.equal(records[0]!.headers[HEADERS.tenantId], a.tenantId);
  assert.equal((JSON.parse(records[0]!.value) as { tenantId: string }).tenantId, a.tenantId);
});
