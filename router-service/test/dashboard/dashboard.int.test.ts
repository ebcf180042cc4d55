import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBroker } from '../support/kafka';
import { AUTH, call, manualClock, startRouter, testMerchant, TEST_TENANT_ID, waitFor } from '../support/router-harness';

const brokers = useBroker();

/**
 * delivery-service's stats route as a stub: numbers per tenant (mutable), and every URL it was
 * asked for, so the test sees whose numbers the router asked for. The query itself is tested in
 * delivery-service/test/api/delivery-stats.int.test.ts against real PostgreSQL.
 */
function fakeStats() {
  const byTenant = new Map<string, Array<Record<string, unknown>>>();
  const asked: URL[] = [];
  let down = false;
  const fetchStub: typeof fetch = async (input) => {
    const url = new URL(String(input));
    asked.push(url);
    if (down) throw new TypeError('fetch failed');
    const tenant = /\/internal\/v1\/tenants\/([^/]+)\/delivery-stats$/.exec(url.pathname)?.[1];
    if (!tenant) return new Response('{}', { status: 404 });
    return new Response(JSON.stringify({ rows: byTenant.get(tenant) ?? [] }), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { byTenant, asked, fetch: fetchStub, setDown: (d: boolean) => { down = d; } };
}

const row = (sent: number, failed: number, extra: Record<string, unknown> = {}) => ({ channel: 'email', provider: 'simulated-email', sent, failed, retrying: 0, pending: 0, retries: 0, sentRecently: sent, ...extra });

test('GET /v1/dashboard: the caller\'s own numbers per channel and provider, success and delivery rate; another merchant gets its own', async (t) => {
  const stats = fakeStats();
  const clock = manualClock(new Date('2030-01-01T12:00:00Z'));
  const h = await startRouter(t, { brokers: brokers(), clock, fetch: stats.fetch });
  const other = await testMerchant(h.db, ['read']);
  stats.byTenant.set(TEST_TENANT_ID, [row(3, 1, { retries: 2 }), { ...row(5, 0), channel: 'sms', provider: 'twilio-main' }]);
  stats.byTenant.set(other.tenantId, [row(1, 0)]);

  const mine = await call(h.url, 'GET', '/v1/dashboard?windowMinutes=30', AUTH);
  assert.equal(mine.status, 200, JSON.stringify(mine.body));
  assert.deepEqual(mine.body, {
    since: '2030-01-01T11:30:00.000Z', at: '2030-01-01T12:00:00.000Z', windowMinutes: 30,
    rows: [
      { ...row(3, 1, { retries: 2 }), successRate: 0.75, sentPerMinute: 3 },
      { ...row(5, 0), channel: 'sms', provider: 'twilio-main', successRate: 1, sentPerMinute: 5 },
    ],
  });
  const q = stats.asked.at(-1)!;
  assert.equal(q.pathname, `/internal/v1/tenants/${TEST_TENANT_ID}/delivery-stats`);
  assert.deepEqual([q.searchParams.get('since'), q.searchParams.get('recentSince')], ['2030-01-01T11:30:00.000Z', '2030-01-01T11:59:00.000Z']);

  const theirs = await call(h.url, 'GET', '/v1/dashboard', other.headers);
  assert.deepEqual((theirs.body.rows as unknown[]).length, 1);
  assert.equal(stats.asked.at(-1)!.pathname, `/internal/v1/tenants/${other.tenantId}/delivery-stats`, 'asked for the caller\'s tenant, whatever the query says');
  assert.equal((await call(h.url, 'GET', `/v1/dashboard?tenantId=${TEST_TENANT_ID}`, other.headers)).status, 400, 'no parameter names a merchant');
  assert.equal((await call(h.url, 'GET', '/v1/dashboard?windowMinutes=0', AUTH)).status, 400);
  assert.equal((await call(h.url, 'GET', '/v1/dashboard', {})).status, 401);
  stats.setDown(true);
  const down = await call(h.url, 'GET', '/v1/dashboard', AUTH);
  assert.deepEqual([down.status, down.body.code], [503, 'STATUS_UNAVAILABLE']);
});

test('GET /v1/dashboard/events: a stats event at once and another when the numbers change (not when only the clock moves)', async (t) => {
  const stats = fakeStats();
  const h = await startRouter(t, { brokers: brokers(), fetch: stats.fetch });
  stats.byTenant.set(TEST_TENANT_ID, [row(1, 0)]);
  const abort = new AbortController();
  t.after(() => abort.abort());
  const res = await fetch(`${h.url}/v1/dashboard/events`, { headers: AUTH, signal: abort.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events: Array<{ rows: Array<{ sent: number; failed: number }> }> = [];
  let buffer = '';
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (/^event: stats$/m.test(block)) events.push(JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as { rows: Array<{ sent: number; failed: number }> });
      }
    }
  })().catch(() => undefined);
  await waitFor(async () => events.length === 1);
  assert.equal(events[0]!.rows[0]!.sent, 1);
  const asked = stats.asked.length;
  await waitFor(async () => stats.asked.length >= asked + 2, 10_000); // two more ticks with the same numbers…
  assert.equal(events.length, 1, '…send nothing');
  stats.byTenant.set(TEST_TENANT_ID, [row(4, 1)]);
  await waitFor(async () => events.length === 2, 10_000);
  assert.deepEqual([events[1]!.rows[0]!.sent, events[1]!.rows[0]!.failed], [4, 1]);
  abort.abort();
  await reading;
});
