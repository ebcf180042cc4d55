import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDb } from '@ca/postgres';
import { useBroker } from '../support/kafka';
import { AUTH, call, countRows, defer, manualClock, startRouter, testDb, TEST_DATABASE_URL, waitFor } from '../support/router-harness';
import { notify, ORDER_SHIPPED, postTemplate, putUser, USER_42 } from './support';

const brokers = useBroker();
const send = (n: number | string, templateId = 'ORDER_SHIPPED') => ({ userId: 'user-42', type: 'SMS', templateId, templateParams: { orderId: `o-${n}`, itemName: 'Laptop' } });

test('100 concurrent notifications for one user with a limit of 5, across two router processes: exactly 5 accepted', async (t) => {
  const { db, schema } = await testDb(t);
  // A second pool on the same schema plays a second router process: only PostgreSQL is shared.
  const db2 = createDb({ url: TEST_DATABASE_URL, schema, pool: { min: 0, max: 20 } });
  defer(t, () => db2.destroy());
  const policy = { userRateLimit: { limit: 5, windowSeconds: 60, onLimit: 'reject' as const } };
  // One fixed instant for both: on a loaded machine the 100 requests can take seconds, and a real
  // clock crossing a minute boundary would rightly open a second window (5 + 5).
  const clock = manualClock(new Date('2030-01-01T00:00:30Z'));
  const a = await startRouter(t, { brokers: brokers(), db, clock, settings: policy });
  const b = await startRouter(t, { brokers: brokers(), db: db2, clock, settings: { ...policy, topicPrefix: a.settings.topicPrefix } });
  await putUser(a.url, 'user-42', USER_42);
  await postTemplate(a.url, 'ORDER_SHIPPED', ORDER_SHIPPED);

  const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => notify(i % 2 ? a.url : b.url, send(i))));
  const statuses = answers.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 202).length, 5, JSON.stringify(answers.find((r) => r.status !== 202 && r.status !== 429)?.body));
  assert.equal(statuses.filter((s) => s === 429).length, 95);
  const refused = answers.find((r) => r.status === 429)!;
  assert.equal(refused.body.code, 'USER_RATE_LIMITED');
  assert.equal(refused.body.policy, 'user');
  assert.equal(refused.headers.get('retry-after'), '30');
  assert.equal(refused.headers.get('ratelimit-policy'), '"user";q=5;w=60');
  assert.equal(refused.headers.get('ratelimit'), '"user";r=0;t=30');
  assert.equal(await countRows(db, 'messages'), 5);
  assert.equal(await countRows(db, 'outbox'), 5);
  const counters = await db('user_rate_counters').select('count') as Array<{ count: number }>;
  assert.deepEqual(counters.map((c) => c.count), [5], 'refused requests leave no count');
});

test('per user + template limit (2 PASSWORD_RESET per 5 minutes), reject: 429 with Retry-After until the window ends; other templates unaffected', async (t) => {
  const clock = manualClock(new Date('2030-01-01T00:01:00Z'));
  const h = await startRouter(t, { brokers: brokers(), clock, settings: { userRateLimit: { limit: 5, windowSeconds: 60, onLimit: 'reject' } } });
  await putUser(h.url, 'user-42', USER_42);
  await postTemplate(h.url, 'ORDER_SHIPPED', ORDER_SHIPPED);
  await postTemplate(h.url, 'PASSWORD_RESET', { ...ORDER_SHIPPED, category: 'security', rateLimit: { limit: 2, windowSeconds: 300, onLimit: 'reject' } });

  const first = await notify(h.url, send(1, 'PASSWORD_RESET'));
  assert.equal(first.status, 202);
  assert.match(first.headers.get('ratelimit') ?? '', /"user";r=4;t=60/);
  assert.match(first.headers.get('ratelimit') ?? '', /"user-template";r=1;t=240/);
  assert.equal((await notify(h.url, send(2, 'PASSWORD_RESET'))).status, 202);
  const third = await notify(h.url, send(3, 'PASSWORD_RESET'));
  assert.equal(third.status, 429);
  assert.equal(third.body.policy, 'user-template');
  assert.equal(third.headers.get('retry-after'), '240');
  assert.equal(third.headers.get('ratelimit-policy'), '"user-template";q=2;w=300');
  assert.equal((await notify(h.url, send(4))).status, 202, 'another template still goes');

  clock.advance(60); // the user window is new; the 5-minute template window is not
  assert.equal((await notify(h.url, send(5, 'PASSWORD_RESET'))).status, 429);
  clock.advance(180);
  assert.equal((await notify(h.url, send(6, 'PASSWORD_RESET'))).status, 202);
  assert.equal(await countRows(h.db, 'messages'), 4);
});

test('defer: over the limit is accepted and published when the window allows (outbox not_before)', async (t) => {
  const clock = manualClock(new Date('2030-01-01T00:00:00Z'));
  const h = await startRouter(t, { brokers: brokers(), clock, settings: { userRateLimit: { limit: 0, windowSeconds: 60, onLimit: 'reject' } } });
  await putUser(h.url, 'user-42', USER_42);
  await postTemplate(h.url, 'DIGEST', { ...ORDER_SHIPPED, category: 'marketing', rateLimit: { limit: 2, windowSeconds: 300, onLimit: 'defer' } });

  const answers = [];
  for (let i = 0; i < 5; i++) answers.push(await notify(h.url, send(i, 'DIGEST')));
  assert.deepEqual(answers.map((r) => r.status), [202, 202, 202, 202, 202]);
  assert.deepEqual(answers.map((r) => r.body.deferredUntil ?? null),
    [null, null, '2030-01-01T00:05:00.000Z', '2030-01-01T00:05:00.000Z', '2030-01-01T00:10:00.000Z']);
  assert.deepEqual(answers.map((r) => r.body.status), ['pending', 'pending', 'scheduled', 'scheduled', 'scheduled']);
  const sendAts = await h.db('messages').whereNotNull('send_at').pluck('send_at') as Date[];
  assert.equal(sendAts.length, 3, 'a deferred notification is scheduled like a sendAt (its row has send_at)');
  const waiting = await h.db('outbox').whereNotNull('not_before').orderBy('id').pluck('not_before') as Date[];
  assert.deepEqual(waiting.map((d) => d.toISOString()), ['2030-01-01T00:05:00.000Z', '2030-01-01T00:05:00.000Z', '2030-01-01T00:10:00.000Z']);

  h.service.relay.start();
  await waitFor(async () => (await countRows(h.db, 'outbox')) === 3, 20_000);
  clock.advance(300);
  h.service.relay.kick();
  await waitFor(async () => (await countRows(h.db, 'outbox')) === 1, 20_000);
  clock.advance(300);
  h.service.relay.kick();
  await waitFor(async () => (await countRows(h.db, 'outbox')) === 0, 20_000);
});

test('a merchant sets its own per-user policy; DELETE goes back to the default', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  assert.deepEqual((await call(h.url, 'GET', '/v1/rate-policies/user', AUTH)).body, { ...h.settings.userRateLimit, source: 'default' });
  const set = await call(h.url, 'PUT', '/v1/rate-policies/user', AUTH, { limit: 1, windowSeconds: 3600, onLimit: 'reject' });
  assert.equal(set.status, 200);
  assert.equal(set.body.source, 'merchant');
  assert.equal((await call(h.url, 'PUT', '/v1/rate-policies/user', AUTH, { limit: 0, windowSeconds: 0 })).status, 400);
  await putUser(h.url, 'user-42', USER_42);
  await postTemplate(h.url, 'ORDER_SHIPPED', ORDER_SHIPPED);
  assert.equal((await notify(h.url, send(1))).status, 202);
  const limited = await notify(h.url, send(2));
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get('ratelimit-policy'), '"user";q=1;w=3600');
  assert.equal((await call(h.url, 'DELETE', '/v1/rate-policies/user', AUTH)).body.source, 'default');
  assert.equal((await notify(h.url, send(3))).status, 202, 'the default window counts afresh');
});
