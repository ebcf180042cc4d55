import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createKafka } from '@ca/kafka';
import type { MessageListItem, MessagePage, StatusEvent } from '@ca/contracts';
import { applyStatusEvents } from '../../src/messages/status-projection';
import { testProducer, useBroker } from '../support/kafka';
import { AUTH, call, manualClock, postMessage, SAMPLES, startRouter, testMerchant, waitFor } from '../support/router-harness';

const brokers = useBroker();

async function list(url: string, query: string, headers: Record<string, string> = AUTH) {
  const res = await call(url, 'GET', `/v1/messages${query}`, headers);
  return { ...res, page: res.body as unknown as MessagePage };
}

/** Every page from the first, following nextCursor. */
async function listAll(url: string, query: string, headers: Record<string, string> = AUTH): Promise<MessageListItem[]> {
  const items: MessageListItem[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const sep = query ? '&' : '?';
    const res = await list(url, `${query}${cursor ? `${sep}cursor=${cursor}` : ''}`, headers);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    items.push(...res.page.items);
    cursor = res.page.nextCursor;
    if (!cursor) return items;
    assert.equal(res.page.links.next?.includes(`cursor=${cursor}`), true);
  }
  throw new Error('too many pages');
}

function event(id: string, tenantId: string, status: StatusEvent['status'], version: number): StatusEvent {
  return { v: 1, id, tenantId, status, version, deliveryAttempts: version, lastAttemptedAt: '2030-01-01T00:00:01.000Z', at: '2030-01-01T00:00:02.000Z' };
}

test('pages newest first by keyset: every message once, ties on created_at ordered by id, filters combine', async (t) => {
  const clock = manualClock();
  const h = await startRouter(t, { brokers: brokers(), clock });
  const ids: string[] = [];
  // 12 messages at one instant (ties), then 13 one second apart: keyset order must still be total.
  for (let i = 0; i < 25; i++) {
    if (i >= 12) clock.advance(1);
    const sample = [SAMPLES.email, SAMPLES.sms, SAMPLES.push][i % 3]!;
    const res = await postMessage(h.url, { ...sample, body: `listing ${i}`, correlationId: i % 5 === 0 ? 'order-5' : `order-${i}` });
    assert.equal(res.status, 202);
    ids.push(res.body.id as string);
  }

  const all = await listAll(h.url, '?limit=7');
  assert.equal(all.length, 25);
  assert.equal(new Set(all.map((m) => m.id)).size, 25, 'no message twice across pages');
  for (let i = 1; i < all.length; i++) {
    const [a, b] = [all[i - 1]!, all[i]!];
    assert.ok(a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id), `order at ${i}`);
  }
  const first = all[0]!;
  assert.equal(first.status, 'pending');
  assert.equal(first.to.includes('@') ? first.to : first.to.slice(0, 3), first.to, 'masked');
  assert.ok(!all.some((m) => m.to === SAMPLES.email.to || m.to === SAMPLES.sms.to), 'recipients are masked');

  const sms = await listAll(h.url, '?channel=sms&limit=3');
  assert.deepEqual(sms.map((m) => m.channel), Array(sms.length).fill('sms'));
  assert.equal(sms.length, ids.filter((_, i) => i % 3 === 1).length);

  const corr = await listAll(h.url, '?correlationId=order-5');
  assert.deepEqual(corr.map((m) => m.correlationId), ['order-5', 'order-5', 'order-5', 'order-5', 'order-5']);

  // Created range: the 13 that came after the first instant, minus the last one.
  const after = new Date('2030-01-01T00:00:00.500Z').toISOString();
  const before = new Date('2030-01-01T00:00:13.000Z').toISOString();
  const ranged = await listAll(h.url, `?createdAfter=${after}&createdBefore=${before}&limit=5`);
  assert.equal(ranged.length, 12);

  // Status comes from the projection: apply delivery's events and filter on them.
  await applyStatusEvents(h.db, [event(ids[0]!, '00000000-0000-4000-8000-000000000000', 'sent', 1), event(ids[3]!, '00000000-0000-4000-8000-000000000000', 'retrying', 1)]);
  await applyStatusEvents(h.db, [event(ids[3]!, '00000000-0000-4000-8000-000000000000', 'sent', 2)]);
  // A replay of the older event does not move it back.
  await applyStatusEvents(h.db, [event(ids[3]!, '00000000-0000-4000-8000-000000000000', 'retrying', 1)]);
  const sent = await listAll(h.url, '?status=sent');
  assert.deepEqual(sent.map((m) => m.id).sort(), [ids[0], ids[3]].sort());
  assert.equal(sent.find((m) => m.id === ids[3])?.deliveryAttempts, 2);
  // Both are emails created at the same instant: id order.
  const sentEmail = await listAll(h.url, '?status=sent&channel=email');
  assert.deepEqual(sentEmail.map((m) => m.id), [ids[3]!, ids[0]!].sort().reverse());
  assert.equal((await listAll(h.url, '?status=sent&channel=sms')).length, 0);

  // userId / templateId filters (columns written by the notification send path).
  await h.db('messages').whereIn('id', [ids[1]!, ids[2]!]).update({ user_id: 'user-42', template_id: 'order-shipped' });
  assert.deepEqual((await listAll(h.url, '?userId=user-42')).map((m) => m.id), [ids[1]!, ids[2]!].sort().reverse(), 'same instant: id order');
  assert.deepEqual((await listAll(h.url, '?templateId=order-shipped&userId=user-42&limit=1')).map((m) => m.userId), ['user-42', 'user-42']);
  assert.equal((await listAll(h.url, '?userId=nobody')).length, 0);
});

test('another merchant sees none of these messages, with or without a cursor, and cannot move their status', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  for (let i = 0; i < 3; i++) assert.equal((await postMessage(h.url, { ...SAMPLES.email, body: `mine ${i}` })).status, 202);
  const other = await testMerchant(h.db);
  const theirs = await postMessage(h.url, { ...SAMPLES.email, body: 'theirs' }, other.headers);
  assert.equal(theirs.status, 202);

  const mine = await listAll(h.url, '?limit=2');
  assert.equal(mine.length, 3);
  assert.ok(!mine.some((m) => m.id === theirs.body.id));
  const seen = await listAll(h.url, '', other.headers);
  assert.deepEqual(seen.map((m) => m.id), [theirs.body.id]);

  // My cursor in their hands only positions their own listing.
  const page = await list(h.url, '?limit=1');
  const withMyCursor = await list(h.url, `?cursor=${page.page.nextCursor}`, other.headers);
  assert.equal(withMyCursor.status, 200);
  assert.ok(withMyCursor.page.items.every((m) => m.id === theirs.body.id));

  // A status event naming another tenant does not touch the message.
  await applyStatusEvents(h.db, [event(mine[0]!.id, other.tenantId, 'sent', 5)]);
  assert.equal((await listAll(h.url, '?status=sent')).length, 0);
});

test('bad query parameters are a 400 problem naming each; a key without read scope is 403', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const bad = await list(h.url, '?limit=0&status=lost&channel=fax&createdAfter=yesterday&color=red');
  assert.equal(bad.status, 400);
  assert.match(bad.headers.get('content-type') ?? '', /application\/problem\+json/);
  assert.equal(bad.body.code, 'VALIDATION_FAILED');
  const fields = (bad.body.errors as Array<{ field: string }>).map((e) => e.field).sort();
  assert.deepEqual(fields, ['channel', 'color', 'createdAfter', 'limit', 'status']);

  for (const q of ['?limit=101', '?limit=abc', '?cursor=not-a-cursor!', `?cursor=${Buffer.from('["x","y"]').toString('base64url')}`, '?status=sent&status=failed', `?userId=${'u'.repeat(256)}`]) {
    const res = await list(h.url, q);
    assert.equal(res.status, 400, q);
    assert.equal(res.body.code, 'VALIDATION_FAILED', q);
  }
  const sendOnly = await testMerchant(h.db, ['send']);
  const res = await list(h.url, '', sendOnly.headers);
  assert.equal(res.status, 403);
  assert.equal(res.body.code, 'INSUFFICIENT_SCOPE');
  assert.equal((await call(h.url, 'GET', '/v1/messages', {})).status, 401);
});

test('the projection follows delivery status events from Kafka', async (t) => {
  const kafka = createKafka({ brokers: brokers().split(','), clientId: 'router-listing-test' });
  const h = await startRouter(t, { brokers: brokers(), kafka });
  h.service.start();
  const accepted = await postMessage(h.url, { ...SAMPLES.sms, body: `projection ${randomUUID()}` });
  const id = accepted.body.id as string;
  const producer = testProducer(brokers());
  await producer.connect();
  t.after(() => producer.disconnect());
  const tenant = '00000000-0000-4000-8000-000000000000';
  await producer.send({ topic: h.topics.status, messages: [
    { key: id, value: JSON.stringify(event(id, tenant, 'retrying', 1)) },
    { key: id, value: 'not json' },
    { key: id, value: JSON.stringify(event(id, tenant, 'dead_lettered', 2)) },
  ] });
  await waitFor(async () => (await listAll(h.url, '?status=dead_lettered')).some((m) => m.id === id), 30_000);
  const [item] = await listAll(h.url, '?status=dead_lettered');
  assert.equal(item?.deliveryAttempts, 2);
  assert.equal(item?.lastAttemptedAt, '2030-01-01T00:00:01.000Z');
});
