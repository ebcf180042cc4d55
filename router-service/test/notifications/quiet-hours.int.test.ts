import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readRecords, useBroker } from '../support/kafka';
import { AUTH, call, countRows, manualClock, startRouter, waitFor } from '../support/router-harness';
import { notify, ORDER_SHIPPED, postTemplate, putUser, USER_42 } from './support';

const brokers = useBroker();
const QUIET = { start: '21:00', end: '08:00' };
/** delivery-service has not seen any of these messages: the status read answers from the router's row. */
const neverConsumed: typeof fetch = async () => new Response(JSON.stringify({ code: 'MESSAGE_NOT_FOUND' }), { status: 404, headers: { 'content-type': 'application/json' } });
const send = (templateId: string, extra: Record<string, unknown> = {}) => ({
  userId: 'user-42', type: 'SMS', templateId, templateParams: { orderId: `o-${Math.random()}`, itemName: 'Laptop' }, priority: 'LOW', ...extra,
});

test('quiet hours crossing midnight: a LOW notification at 23:30 Berlin waits for 08:00 (scheduled, deferredBy), HIGH and security go now, published at the end', async (t) => {
  // 2030-01-15 22:30Z = 23:30 CET (UTC+1); the window ends at 08:00 CET = 07:00Z the next day.
  const clock = manualClock(new Date('2030-01-15T22:30:00Z'));
  const h = await startRouter(t, { brokers: brokers(), clock, fetch: neverConsumed });
  await putUser(h.url, 'user-42', USER_42);
  await putUser(h.url, 'no-zone', { ...USER_42, timeZone: null });
  const news = await postTemplate(h.url, 'NEWS', { ...ORDER_SHIPPED, category: 'marketing', quietHours: QUIET });
  assert.equal(news.status, 201, JSON.stringify(news.body));
  assert.deepEqual(news.body.quietHours, QUIET, 'stored with the version');
  await postTemplate(h.url, 'OTP', { ...ORDER_SHIPPED, category: 'security', quietHours: QUIET });

  const deferred = await notify(h.url, send('NEWS'));
  assert.equal(deferred.status, 202, JSON.stringify(deferred.body));
  assert.deepEqual([deferred.body.status, deferred.body.deferredUntil, deferred.body.deferredBy], ['scheduled', '2030-01-16T07:00:00.000Z', 'quiet_hours']);
  const id = deferred.body.id as string;
  const read = await call(h.url, 'GET', `/v1/notifications/${id}`, AUTH);
  assert.deepEqual([read.body.status, read.body.sendAt, read.body.deferredBy], ['SCHEDULED', '2030-01-16T07:00:00.000Z', 'quiet_hours']);
  const message = await call(h.url, 'GET', `/v1/messages/${id}`, AUTH);
  assert.deepEqual([message.body.status, message.body.sendAt, message.body.deferredBy], ['scheduled', '2030-01-16T07:00:00.000Z', 'quiet_hours']);

  // Not deferred: HIGH priority, a security template, a user without a time zone.
  const high = await notify(h.url, send('NEWS', { priority: 'HIGH' }));
  const security = await notify(h.url, send('OTP'));
  const noZone = await notify(h.url, send('NEWS', { userId: 'no-zone' }));
  for (const r of [high, security, noZone]) {
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.deepEqual([r.body.status, r.body.deferredBy], ['pending', undefined]);
  }
  assert.equal((await call(h.url, 'GET', `/v1/notifications/${high.body.id as string}`, AUTH)).body.deferredBy, null);

  // An explicit sendAt inside the window moves to its end; one outside stays as asked.
  const early = await notify(h.url, send('NEWS', { sendAt: '2030-01-16T05:00:00Z' })); // 06:00 CET
  assert.deepEqual([early.body.status, early.body.deferredUntil, early.body.deferredBy], ['scheduled', '2030-01-16T07:00:00.000Z', 'quiet_hours']);
  const late = await notify(h.url, send('NEWS', { sendAt: '2030-01-16T09:00:00+01:00' }));
  assert.deepEqual([late.body.status, late.body.deferredUntil], ['scheduled', undefined]);
  const lateRow = await h.db('messages').where({ id: late.body.id as string }).first() as { send_at: Date; deferred_by: string | null };
  assert.deepEqual([lateRow.send_at.toISOString(), lateRow.deferred_by], ['2030-01-16T08:00:00.000Z', null]);

  // The outbox holds the deferred ones until 07:00Z; then the relay publishes them.
  const waiting = await h.db('outbox').whereNotNull('not_before').orderBy('id').pluck('not_before') as Date[];
  assert.deepEqual(waiting.map((d) => d.toISOString()), ['2030-01-16T07:00:00.000Z', '2030-01-16T07:00:00.000Z', '2030-01-16T08:00:00.000Z']);
  h.service.relay.start();
  await waitFor(async () => (await countRows(h.db, 'outbox')) === 3, 20_000);
  clock.advance(8.5 * 3600 - 1); // 06:59:59Z: still quiet
  h.service.relay.kick();
  assert.equal((await call(h.url, 'GET', `/v1/notifications/${id}`, AUTH)).body.status, 'SCHEDULED');
  clock.advance(1);
  h.service.relay.kick();
  await waitFor(async () => (await countRows(h.db, 'outbox')) === 1, 20_000);
  const records = await readRecords(brokers(), [h.topics.lane('sms', 'low')], 4);
  assert.ok([id, early.body.id].every((m) => records.some((r) => JSON.parse(r.value).id === m)), 'both deferred notifications published at the window end');
});

test('a DST day: New York springs forward on 2030-03-10, so 08:00 EDT is 12:00Z (not 13:00Z, the accept-time offset); the zone is the user\'s', async (t) => {
  const clock = manualClock(new Date('2030-03-10T06:00:00Z')); // 01:00 EST, an hour before the change
  const h = await startRouter(t, { brokers: brokers(), clock, fetch: neverConsumed });
  await putUser(h.url, 'user-42', { ...USER_42, timeZone: 'America/New_York' });
  await postTemplate(h.url, 'NEWS', { ...ORDER_SHIPPED, category: 'marketing', quietHours: QUIET });
  const r = await notify(h.url, send('NEWS', { priority: 'MEDIUM' }));
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.deepEqual([r.body.deferredUntil, r.body.deferredBy], ['2030-03-10T12:00:00.000Z', 'quiet_hours']);
  // Autumn: 22:00 EDT on 2030-11-02 → 08:00 EST on 2030-11-03 = 13:00Z.
  clock.advance((Date.parse('2030-11-03T02:00:00Z') - Date.parse('2030-03-10T06:00:00Z')) / 1000);
  const autumn = await notify(h.url, send('NEWS', { priority: 'MEDIUM' }));
  assert.equal(autumn.body.deferredUntil, '2030-11-03T13:00:00.000Z');
});

test('quietHours is validated (HH:MM, start ≠ end), kept per version, and a version without it sends at any hour', async (t) => {
  const clock = manualClock(new Date('2030-01-15T22:30:00Z'));
  const h = await startRouter(t, { brokers: brokers(), clock, fetch: neverConsumed });
  await putUser(h.url, 'user-42', USER_42);
  const bad = await postTemplate(h.url, 'NEWS', { ...ORDER_SHIPPED, quietHours: { start: '9pm', end: '08:00', zone: 'UTC' } });
  assert.equal(bad.status, 400);
  assert.deepEqual((bad.body.errors as Array<{ field: string }>).map((e) => e.field).sort(), ['quietHours.start', 'quietHours.zone']);
  const same = await postTemplate(h.url, 'NEWS', { ...ORDER_SHIPPED, quietHours: { start: '08:00', end: '08:00' } });
  assert.equal(same.status, 400);
  assert.equal((await postTemplate(h.url, 'NEWS', { ...ORDER_SHIPPED, quietHours: QUIET })).status, 201);
  const v2 = await call(h.url, 'PUT', '/v1/templates/NEWS', AUTH, ORDER_SHIPPED);
  assert.deepEqual([v2.body.version, v2.body.quietHours], [2, null]);
  assert.deepEqual((await call(h.url, 'GET', '/v1/templates/NEWS?version=1', AUTH)).body.quietHours, QUIET);
  assert.equal((await notify(h.url, send('NEWS'))).body.status, 'pending', 'the latest version has no quiet hours');
});
