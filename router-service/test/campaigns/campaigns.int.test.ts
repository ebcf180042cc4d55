import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBroker } from '../support/kafka';
import { call, countRows, startRouter, testMerchant, type RouterHarness } from '../support/router-harness';
import type { Fetch } from '../../src/messages/delivery-client';

const brokers = useBroker();

/** delivery-service as the dispatcher sees it: every message it is asked about has `status`. */
function fakeDelivery(status: () => string): Fetch {
  return (async (_url: string | URL | Request, init?: RequestInit) => {
    const { ids } = JSON.parse(String(init?.body)) as { ids: string[] };
    return new Response(JSON.stringify({ statuses: ids.map((id) => ({ id, status: status() })) }), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as Fetch;
}

export function recipientsCsv(n: number, bad: number[] = []): string {
  const lines = ['email,firstName,userId'];
  for (let i = 1; i <= n; i++) lines.push(bad.includes(i) ? (i % 2 ? `not-an-email-${i},Ann${i},u${i}` : `user${i}@example.com,,u${i}`) : `user${i}@example.com,Ann${i},u${i}`);
  return `${lines.join('\n')}\n`;
}

async function upload(h: RouterHarness, headers: Record<string, string>, id: string, csv: string) {
  const res = await fetch(`${h.url}/v1/campaigns/${id}/recipients`, { method: 'POST', headers: { ...headers, 'content-type': 'text/csv' }, body: csv });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('campaign: 50 rows with 2 bad → report (line, reason); the same file again adds nothing; start → 48 messages through the outbox; counts reconcile', async (t) => {
  let status = 'pending';
  // 'sent or delivered': every other message's delivery receipt already came back (delivered) when the dispatcher asks.
  let flip = false;
  const h = await startRouter(t, { brokers: brokers(), fetch: fakeDelivery(() => (status === 'sent or delivered' ? ((flip = !flip) ? 'sent' : 'delivered') : status)) });
  const m = await testMerchant(h.db);
  const other = await testMerchant(h.db);
  const created = await call(h.url, 'POST', '/v1/campaigns', m.headers, { name: 'Spring sale', channel: 'email', subject: 'Hi {{firstName}}', body: 'Hello {{firstName}}, 20% off' });
  assert.equal(created.status, 201);
  const id = created.body.id as string;

  const first = await upload(h, m.headers, id, recipientsCsv(50, [7, 20]));
  assert.equal(first.status, 201);
  assert.equal(first.body.rows, 50);
  assert.equal(first.body.accepted, 48);
  const rejected = first.body.rejected as Array<{ line: number; reason: string }>;
  assert.deepEqual(rejected.map((r) => r.line), [8, 21], 'line numbers count the header as line 1');
  assert.match(rejected[0]!.reason, /email address/);
  assert.match(rejected[1]!.reason, /empty value for \{\{firstName\}\}/);
  const report = await fetch(`${h.url}${(first.body.links as { report: string }).report}`, { headers: m.headers });
  assert.equal(report.headers.get('content-type'), 'text/csv; charset=utf-8');
  assert.match(await report.text(), /^line,reason\r\n8,.*\r\n21,.*\r\n$/);
  assert.equal(await countRows(h.db, 'messages'), 0, 'nothing is sent before the campaign starts');

  const again = await upload(h, m.headers, id, recipientsCsv(50, [7, 20]));
  assert.equal(again.body.accepted, 0);
  assert.equal(again.body.duplicates, 48);

  assert.equal((await call(h.url, 'GET', `/v1/campaigns/${id}`, other.headers)).status, 404, "another merchant's campaign is not found");
  assert.equal((await upload(h, other.headers, id, recipientsCsv(2))).status, 404);

  const started = await call(h.url, 'POST', `/v1/campaigns/${id}/start`, m.headers, {});
  assert.equal(started.status, 200);
  assert.equal(started.body.status, 'running');
  assert.equal((await upload(h, m.headers, id, recipientsCsv(3))).status, 409);
  await h.service.dispatcher.runOnce();
  assert.equal(await countRows(h.db, 'messages'), 48);
  const outbox = await h.db('outbox').select('topic', 'value');
  const sent = outbox.filter((r: { topic: string }) => r.topic === h.topics.lane('email', 'low')).map((r: { value: string }) => JSON.parse(r.value) as { to: string; subject: string; body: string });
  assert.equal(sent.length, 48, 'one outbox row per message (or already published by the relay)');
  assert.equal(sent.find((r) => r.to === 'user1@example.com')?.subject, 'Hi Ann1');
  await h.service.dispatcher.runOnce();
  assert.equal(await countRows(h.db, 'messages'), 48, 'a second round enqueues nothing again');

  let view = await call(h.url, 'GET', `/v1/campaigns/${id}`, m.headers);
  assert.deepEqual(view.body.counts, { accepted: 48, sent: 0, failed: 0, pending: 48, canceled: 0 });
  status = 'sent or delivered';
  await h.service.dispatcher.runOnce();
  const delivered = await h.db('campaign_recipients').where({ campaign_id: id, delivery_status: 'delivered' }).count<{ n: string }>('* as n').first();
  assert.equal(Number(delivered?.n), 24, 'delivered is terminal: stored, not asked about again');
  view = await call(h.url, 'GET', `/v1/campaigns/${id}`, m.headers);
  assert.deepEqual(view.body.counts, { accepted: 48, sent: 48, failed: 0, pending: 0, canceled: 0 });
  assert.equal(view.body.status, 'completed');

  const messages = await call(h.url, 'GET', `/v1/campaigns/${id}/messages?status=sent&limit=5`, m.headers);
  const list = messages.body.messages as Array<{ to: string; status: string; links: { trace: string } }>;
  assert.equal(list.length, 5);
  assert.deepEqual(list.map((r) => r.status), ['sent', 'sent', 'sent', 'sent', 'sent'], 'a delivered recipient is a sent one');
  assert.doesNotMatch(list[0]!.to, /user1@/, 'recipients are masked');
  assert.match(list[0]!.links.trace, /^http:\/\/traces\.test\/traces\/[0-9a-f]{32}$/);
  assert.equal((await call(h.url, 'GET', '/v1/campaigns', other.headers)).body.campaigns instanceof Array, true);
  assert.deepEqual((await call(h.url, 'GET', '/v1/campaigns', other.headers)).body.campaigns, []);
});

test('campaign: a scheduled campaign canceled before its time sends nothing; counts show canceled', async (t) => {
  const h = await startRouter(t, { brokers: brokers(), fetch: fakeDelivery(() => 'sent') });
  const m = await testMerchant(h.db);
  const created = await call(h.url, 'POST', '/v1/campaigns', m.headers, { name: 'Later', channel: 'sms', body: 'Hi {{firstName}}' });
  const id = created.body.id as string;
  const csv = 'phone,firstName\n+14155550100,Ann\n+14155550101,Bob\n';
  assert.equal((await upload(h, m.headers, id, csv)).body.accepted, 2);
  const scheduled = await call(h.url, 'POST', `/v1/campaigns/${id}/start`, m.headers, { sendAt: new Date(Date.now() + 3600_000).toISOString() });
  assert.equal(scheduled.body.status, 'scheduled');
  await h.service.dispatcher.runOnce();
  assert.equal(await countRows(h.db, 'messages'), 0);
  const canceled = await call(h.url, 'POST', `/v1/campaigns/${id}/cancel`, m.headers);
  assert.equal(canceled.status, 200);
  assert.equal(canceled.body.status, 'canceled');
  assert.deepEqual(canceled.body.counts, { accepted: 2, sent: 0, failed: 0, pending: 0, canceled: 2 });
  assert.equal((await call(h.url, 'POST', `/v1/campaigns/${id}/cancel`, m.headers)).status, 409);
});

test('campaign: a file without an address column, or using a placeholder it lacks, is refused whole (400 CSV_REJECTED)', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const m = await testMerchant(h.db);
  const id = (await call(h.url, 'POST', '/v1/campaigns', m.headers, { name: 'x', channel: 'email', subject: 's', body: 'Hi {{firstName}}' })).body.id as string;
  const noAddress = await upload(h, m.headers, id, 'userId,firstName\nu1,Ann\n');
  assert.equal(noAddress.status, 400);
  assert.equal(noAddress.body.code, 'CSV_REJECTED');
  assert.match(noAddress.body.detail as string, /no recipient directory/);
  const noParam = await upload(h, m.headers, id, 'email\na@example.com\n');
  assert.equal(noParam.status, 400);
  assert.match(noParam.body.detail as string, /firstName/);
  const broken = await upload(h, m.headers, id, 'email,firstName\n"a@example.com,Ann\n');
  assert.equal(broken.status, 400);
});
