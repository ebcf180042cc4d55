import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeliveryStatusView } from '@ca/contracts';
import { migrate } from '@ca/postgres';
import { createLogger } from '@ca/telemetry';
import { freePort, testSchema, waitFor } from '@ca/testing';
import { getStatus, putRoute, SERVICE_AUTH, startDelivery, type Harness } from '../harness';
import { buildProviderSim, providerSimMigrations } from '../../src/provider-sim/sim-app';
import { seededRandom } from '../../src/providers/seeded-random';
import { startTwilioFake, TWILIO_INVALID_TO, TWILIO_RATE_LIMITED_TO } from './fakes/twilio-fake';

/** A provider-sim process's app on port 0 with its own schema (its own records). */
async function startSim(latencyMs: number) {
  const pg = await testSchema('sim');
  await migrate(pg.db, pg.schema, providerSimMigrations);
  const app = buildProviderSim({ db: pg.db, logger: createLogger({ service: 'provider-sim', level: 'error', silent: true }), clock: { now: () => new Date() }, random: seededRandom(1), latencyMs, failureRate: 0 });
  const server: Server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    effects: (id: string) => pg.db('sim_provider_effects').where({ idempotency_key: id }),
    calls: (id: string) => pg.db('sim_provider_calls').where({ idempotency_key: id }),
    async close() { server.closeAllConnections(); server.close(); await pg.cleanup(); },
  };
}

async function finalView(h: Harness, id: string, status: string, timeoutMs = 60_000): Promise<DeliveryStatusView> {
  return waitFor(`message ${id} to be ${status}`, async () => {
    const r = await getStatus(h, id);
    return r.status === 200 && r.body.status === status ? (r.body as unknown as DeliveryStatusView) : null;
  }, timeoutMs);
}

test('tenant provider routes: failover without duplicates, rate limits, invalid recipients and the suppression list', async (t) => {
  // Timeouts leave room for a loaded box: the slow provider answers well after the caller gave up.
  const h = await startDelivery({ maxAttempts: 4, baseMs: 100, providerTimeoutMs: 2500, leaseMs: 10_000 });
  t.after(() => h.close());
  const slow = await startSim(8000); // accepts, then answers long after the caller's 2.5 s timeout
  t.after(() => slow.close());
  const fast = await startSim(0);
  t.after(() => fast.close());
  const twilio = await startTwilioFake();
  t.after(() => twilio.close());
  await h.startConsuming();

  await t.test('provider A accepts then times out: the worker asks A (lookup by idempotency key) and never calls B; one message', async () => {
    const tenantId = randomUUID();
    const put = await putRoute(h, tenantId, 'email', { mode: 'ordered', providers: [{ name: 'a', kind: 'simulated', settings: { baseUrl: slow.url } }, { name: 'b', kind: 'simulated', settings: { baseUrl: fast.url } }] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const r = await h.send('email', 'ada@example.com', { tenantId });
    const view = await finalView(h, r.id, 'sent');
    assert.equal((await slow.effects(r.id)).length, 1, 'A delivered it once');
    assert.equal((await fast.calls(r.id)).length, 0, 'B was never called');
    assert.equal(view.providerMessageId, (await slow.effects(r.id))[0].provider_message_id);
  });

  await t.test('provider A refuses connections: certain "not accepted", B sends it in the same attempt', async () => {
    const tenantId = randomUUID();
    const closed = `http://127.0.0.1:${await freePort()}`;
    assert.equal((await putRoute(h, tenantId, 'sms', { providers: [{ name: 'down', kind: 'simulated', settings: { baseUrl: closed } }, { name: 'up', kind: 'simulated', settings: { baseUrl: fast.url } }] })).status, 200);
    const r = await h.send('sms', '+14155550123', { tenantId });
    await finalView(h, r.id, 'sent');
    // (That it happens in the same attempt is proven without timing in test/routing/dispatch.test.ts.)
    assert.equal((await fast.effects(r.id)).length, 1);
  });

  await t.test('429 with Retry-After reschedules after the wait without using an attempt', async () => {
    const tenantId = randomUUID();
    const route = { providers: [{ name: 'twilio', kind: 'twilio', settings: { accountSid: twilio.accountSid, from: '+15005550006', baseUrl: twilio.url }, credentials: { authToken: twilio.authToken } }] };
    assert.equal((await putRoute(h, tenantId, 'sms', route)).status, 200);
    const started = Date.now();
    const r = await h.send('sms', TWILIO_RATE_LIMITED_TO, { tenantId });
    const view = await finalView(h, r.id, 'sent');
    assert.equal(view.deliveryAttempts, 1, 'the rate-limited call did not count');
    assert.deepEqual(view.attempts.map((a) => a.outcome), ['sent']);
    assert.ok(Date.now() - started >= 2000, 'waited for Retry-After: 2');
    assert.equal(twilio.messages.filter((m) => m.to === TWILIO_RATE_LIMITED_TO).length, 1);
  });

  await t.test('an invalid number fails permanently and is suppressed; the next message to it is not sent; DELETE lifts it', async () => {
    const tenantId = randomUUID();
    const route = { providers: [{ name: 'twilio', kind: 'twilio', settings: { accountSid: twilio.accountSid, from: '+15005550006', baseUrl: twilio.url }, credentials: { authToken: twilio.authToken } }] };
    assert.equal((await putRoute(h, tenantId, 'sms', route)).status, 200);
    const first = await h.send('sms', TWILIO_INVALID_TO, { tenantId });
    const failed = await finalView(h, first.id, 'failed');
    assert.match(failed.errorMessage ?? '', /21211/);
    const list = await fetch(`${h.url}/internal/v1/tenants/${tenantId}/suppressions`, { headers: SERVICE_AUTH }).then((res) => res.json()) as { items: Array<{ recipient: string; channel: string; messageId: string }> };
    assert.deepEqual(list.items.map((i) => [i.channel, i.recipient, i.messageId]), [['sms', TWILIO_INVALID_TO, first.id]]);
    const other = await fetch(`${h.url}/internal/v1/tenants/${randomUUID()}/suppressions`, { headers: SERVICE_AUTH }).then((res) => res.json()) as { items: unknown[] };
    assert.equal(other.items.length, 0, 'per tenant');

    const seen = twilio.requests.length;
    const second = await h.send('sms', TWILIO_INVALID_TO, { tenantId });
    const blocked = await finalView(h, second.id, 'failed');
    assert.match(blocked.errorMessage ?? '', /suppression list/);
    assert.equal(twilio.requests.length, seen, 'no provider call for a suppressed address');

    const del = await fetch(`${h.url}/internal/v1/tenants/${tenantId}/suppressions/sms/${encodeURIComponent(TWILIO_INVALID_TO)}`, { method: 'DELETE', headers: SERVICE_AUTH });
    assert.equal(del.status, 204);
    const again = await fetch(`${h.url}/internal/v1/tenants/${tenantId}/suppressions/sms/${encodeURIComponent(TWILIO_INVALID_TO)}`, { method: 'DELETE', headers: SERVICE_AUTH });
    assert.equal(again.status, 404);
  });

  await t.test('dead letters: listed, inspected, re-driven once (same id, same trace) and sent after the route is fixed', async () => {
    const tenantId = randomUUID();
    const closed = `http://127.0.0.1:${await freePort()}`;
    assert.equal((await putRoute(h, tenantId, 'push', { providers: [{ name: 'down', kind: 'simulated', settings: { baseUrl: closed } }] })).status, 200);
    const r = await h.send('push', `device-${randomUUID()}`, { tenantId });
    const dead = await finalView(h, r.id, 'dead_lettered', 30_000);
    assert.equal(dead.deliveryAttempts, 4);
    const base = `${h.url}/internal/v1/tenants/${tenantId}/dead-letters`;
    const list = await fetch(base, { headers: SERVICE_AUTH }).then((res) => res.json()) as { items: Array<{ id: string; traceId: string; to: string }> };
    assert.deepEqual(list.items.map((i) => i.id), [r.id]);
    assert.equal(list.items[0]!.traceId, r.traceId);
    assert.notEqual(list.items[0]!.to, r.to, 'recipient masked');
    const one = await fetch(`${base}/${r.id}`, { headers: SERVICE_AUTH });
    assert.equal(one.status, 200);
    const elsewhere = await fetch(`${h.url}/internal/v1/tenants/${randomUUID()}/dead-letters/${r.id}`, { headers: SERVICE_AUTH });
    assert.equal(elsewhere.status, 404, 'another tenant cannot see it');

    assert.equal((await putRoute(h, tenantId, 'push', { providers: [{ name: 'up', kind: 'simulated', settings: { baseUrl: fast.url } }] })).status, 200);
    const [first, second] = await Promise.all([1, 2].map(() => fetch(`${base}/${r.id}/redrive`, { method: 'POST', headers: SERVICE_AUTH }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }))));
    assert.deepEqual([first!.status, second!.status].sort(), [200, 202], 'one re-drive; the repeat is a no-op');
    assert.equal(first!.body.traceId, r.traceId);
    const sent = await finalView(h, r.id, 'sent');
    assert.ok(sent.deliveryAttempts >= 5, 'a fresh budget after the re-drive, counted on from the first four');
    assert.equal((await fast.effects(r.id)).length, 1, 'sent once, under its original id');
    const again = await fetch(`${base}/${r.id}/redrive`, { method: 'POST', headers: SERVICE_AUTH });
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), { id: r.id, status: 'sent', redriven: false, redrives: 1, traceId: r.traceId }, 'a late repeat changes nothing');
    assert.equal((await fetch(`${base}/${r.id}`, { headers: SERVICE_AUTH })).status, 404, 'no longer a dead letter');
  });

  await t.test('route API: invalid bodies are 400 problems naming every field; a kind that cannot send the channel is refused', async () => {
    const tenantId = randomUUID();
    const bad = await putRoute(h, tenantId, 'email', { providers: [{ name: 'x', kind: 'twilio', settings: {} }] });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'INVALID_PROVIDER_ROUTE');
    const fields = (bad.body.errors as Array<{ field: string }>).map((e) => e.field);
    assert.ok(fields.includes('providers.0.kind') && fields.includes('providers.0.settings.accountSid') && fields.includes('providers.0.settings.from'), fields.join());
    const notUuid = await putRoute(h, 'nope', 'email', { providers: [] });
    assert.equal(notUuid.status, 400);
    const unknown = await putRoute(h, tenantId, 'fax', { providers: [] });
    assert.equal(unknown.status, 404);
  });
});
