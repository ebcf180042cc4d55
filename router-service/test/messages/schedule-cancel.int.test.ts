import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { HEADERS } from '@ca/contracts';
import { claimRows } from '@ca/outbox';
import { readRecords, useBroker } from '../support/kafka';
import { AUTH, call, countRows, defer, postMessage, SAMPLES, startRouter, testMerchant, waitFor } from '../support/router-harness';

const brokers = useBroker();

/** A stand-in delivery-service: 404 for status reads (never consumed), `cancel` decides cancels. */
async function fakeDelivery(t: TestContext, cancel: (id: string) => { status: number; body: unknown } = () => ({ status: 200, body: { status: 'canceled' } })) {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '';
    seen.push(`${req.method} ${path}`);
    const m = /\/internal\/v1\/messages\/([^/]+)(\/cancel)?$/.exec(path);
    const answer = m?.[2] ? cancel(m[1]!) : { status: 404, body: { code: 'MESSAGE_NOT_FOUND' } };
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  defer(t, () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

test('sendAt: RFC 3339 in the future within the horizon → 202 scheduled; past, too far → 422; malformed or unreal → 400', async (t) => {
  const delivery = await fakeDelivery(t);
  const h = await startRouter(t, { brokers: brokers(), settings: { deliveryUrl: delivery.url, scheduleHorizonSeconds: 3600 } });
  const cases: Array<[string, number, string]> = [
    [new Date(Date.now() - 1000).toISOString(), 422, 'SEND_AT_OUT_OF_RANGE'],
    [inSeconds(7200), 422, 'SEND_AT_OUT_OF_RANGE'],
    ['tomorrow', 400, 'VALIDATION_FAILED'],
    ['2031-01-01T09:00:00', 400, 'VALIDATION_FAILED'], // no offset
    ['2031-02-30T09:00:00Z', 400, 'VALIDATION_FAILED'], // no such day
  ];
  for (const [sendAt, status, code] of cases) {
    const res = await postMessage(h.url, { ...SAMPLES.sms, body: `x ${sendAt}`, sendAt });
    assert.equal(res.status, status, sendAt);
    assert.equal(res.body.code, code, sendAt);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
  }
  assert.equal(await countRows(h.db, 'messages'), 0);

  const sendAt = inSeconds(600);
  const ok = await postMessage(h.url, { ...SAMPLES.sms, sendAt: sendAt.replace('Z', '+00:00') });
  assert.equal(ok.status, 202);
  assert.equal(ok.body.status, 'scheduled');
  const [row] = await h.db('outbox').select('not_before', 'lane', 'topic');
  assert.equal(row.not_before.toISOString(), sendAt);
  assert.equal(row.topic, h.topics.lane('sms', 'medium'));
  const view = await call(h.url, 'GET', `/v1/messages/${String(ok.body.id)}`, AUTH);
  assert.equal(view.body.status, 'scheduled');
  assert.equal(view.body.sendAt, sendAt);
});

test('a scheduled message is published when due, not before, though the relay polls only once a minute', async (t) => {
  const h = await startRouter(t, { brokers: brokers(), settings: { outboxPollMs: 60_000 } });
  h.service.relay.start();
  const sendAt = new Date(Date.now() + 4000);
  const res = await postMessage(h.url, { ...SAMPLES.push, priority: 'high', sendAt: sendAt.toISOString() });
  assert.equal(res.status, 202);
  const records = await readRecords(brokers(), [h.topics.lane('push', 'high')], 1, { timeoutMs: 20_000 });
  assert.equal(records.length, 1);
  assert.equal(records[0]!.headers[HEADERS.messageId], res.body.id);
  // The record's timestamp is the relay's publish (producer create time), not when this reader got it.
  const lateMs = records[0]!.timestamp - sendAt.getTime();
  t.diagnostic(`published ${lateMs} ms after sendAt`);
  assert.ok(lateMs >= 0, `published ${-lateMs} ms before sendAt`);
  // 1 s on an idle machine; a box shared with other test runs delays every timer by its load.
  assert.ok(lateMs < 1000 * Math.max(1, Math.ceil(loadavg()[0]! / cpus().length)), `published ${lateMs} ms after sendAt (load ${loadavg()[0]})`);
});

test('cancel a scheduled message: its outbox row goes, status canceled, idempotent, no delivery call; unknown or foreign id → 404', async (t) => {
  const delivery = await fakeDelivery(t);
  const h = await startRouter(t, { brokers: brokers(), settings: { deliveryUrl: delivery.url } });
  const res = await postMessage(h.url, { ...SAMPLES.email, sendAt: inSeconds(300) });
  const id = String(res.body.id);

  const canceled = await call(h.url, 'POST', `/v1/messages/${id}/cancel`, AUTH);
  assert.equal(canceled.status, 200);
  assert.equal(canceled.body.status, 'canceled');
  assert.equal(await countRows(h.db, 'outbox'), 0);
  assert.equal((await call(h.url, 'GET', `/v1/messages/${id}`, AUTH)).body.status, 'canceled');
  const again = await call(h.url, 'DELETE', `/v1/messages/${id}`, AUTH);
  assert.equal(again.status, 200);
  assert.equal(again.body.canceledAt, canceled.body.canceledAt);
  assert.ok(!delivery.seen.some((s) => s.includes('/cancel')), 'delivery-service was not asked');

  const other = await testMerchant(h.db);
  assert.equal((await call(h.url, 'DELETE', `/v1/messages/${id}`, other.headers)).status, 404);
  assert.equal((await call(h.url, 'DELETE', '/v1/messages/7d444840-9dc0-11d1-b245-5ffdce74fad2', AUTH)).status, 404);
  assert.equal((await call(h.url, 'DELETE', '/v1/messages/nope', AUTH)).status, 400);
});

test('cancel a published message: delivery-service decides; 409 with the current status after a provider call', async (t) => {
  let answer: { status: number; body: unknown } = { status: 409, body: { code: 'MESSAGE_NOT_CANCELABLE', status: 'sent' } };
  const delivery = await fakeDelivery(t, () => answer);
  const h = await startRouter(t, { brokers: brokers(), settings: { deliveryUrl: delivery.url, cancelSettleMs: 0 } });
  h.service.relay.start();
  const first = await postMessage(h.url, { ...SAMPLES.sms, body: 'one' });
  const second = await postMessage(h.url, { ...SAMPLES.sms, body: 'two' });
  await waitFor(async () => (await countRows(h.db, 'outbox')) === 0);

  const refused = await call(h.url, 'POST', `/v1/messages/${String(first.body.id)}/cancel`, AUTH);
  assert.equal(refused.status, 409);
  assert.equal(refused.body.code, 'MESSAGE_NOT_CANCELABLE');
  assert.equal(refused.body.status, 'sent');

  answer = { status: 200, body: { id: second.body.id, status: 'canceled' } };
  const ok = await call(h.url, 'DELETE', `/v1/messages/${String(second.body.id)}`, AUTH);
  assert.equal(ok.status, 200);
  assert.equal(ok.body.status, 'canceled');
  const [row] = await h.db('messages').where({ id: second.body.id }).select('canceled_at');
  assert.ok(row.canceled_at);
  assert.ok(delivery.seen.some((s) => s === `POST /internal/v1/messages/${String(second.body.id)}/cancel`));
});

test('priority lanes in the outbox: a HIGH row is claimed before a LOW backlog written earlier', async (t) => {
  const h = await startRouter(t, { brokers: brokers(), settings: { rateLimitPerMinute: 0 } });
  for (let i = 0; i < 300; i++) {
    const r = await postMessage(h.url, { ...SAMPLES.sms, to: `+1415556${String(1000 + i)}`, body: `low ${i}`, priority: 'low' });
    assert.equal(r.status, 202);
  }
  const high = await postMessage(h.url, { ...SAMPLES.sms, body: 'urgent', priority: 'high' });
  const round = await claimRows(h.db, { token: '6f1c2f0e-8d5b-4a8e-9a35-9b0d2f1e4c11', now: new Date(), claimMs: 30_000, limit: 100 });
  assert.equal(round.length, 100);
  assert.equal(round.filter((r) => r.topic === h.topics.lane('sms', 'high')).length, 1);
  assert.equal(round.find((r) => r.topic === h.topics.lane('sms', 'high'))?.headers[HEADERS.messageId], high.body.id);
});
