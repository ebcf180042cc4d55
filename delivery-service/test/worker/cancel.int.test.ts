import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { CancelRequest, SendRecord } from '@ca/contracts';
import { SERVICE_AUTH, getStatus, startDelivery, type Harness } from '../harness';
import type { Provider, Providers } from '../../src/providers/provider';

function record(): SendRecord {
  return {
    v: 1, id: randomUUID(), channel: 'email', to: `c-${randomUUID().slice(0, 8)}@example.com`, subject: 's', body: 'b',
    priority: 'medium', createdAt: new Date().toISOString(), traceId: randomUUID().replace(/-/g, ''), tenantId: randomUUID(),
  };
}

function cancelRequest(r: SendRecord): CancelRequest {
  return { tenantId: r.tenantId!, channel: r.channel, priority: r.priority, traceId: r.traceId, createdAt: r.createdAt };
}

function incoming(h: Harness, r: SendRecord) {
  return { topic: h.topics.send(r.channel), value: Buffer.from(JSON.stringify(r)), headers: {} };
}

async function cancelOverHttp(h: Harness, r: SendRecord) {
  const res = await fetch(`${h.url}/internal/v1/messages/${r.id}/cancel`, {
    method: 'POST', headers: { ...SERVICE_AUTH, 'content-type': 'application/json' }, body: JSON.stringify(cancelRequest(r)),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const calls = (h: Harness, id: string) => h.db('sim_provider_calls').where({ idempotency_key: id }).count<Array<{ count: string }>>('* as count').then((r) => Number(r[0]!.count));

test('cancel before the record arrives leaves a tombstone: the record is skipped, no provider call', async (t) => {
  const h = await startDelivery();
  t.after(() => h.close());
  const r = record();
  const res = await cancelOverHttp(h, r);
  assert.equal(res.status, 200);
  assert.equal(res.body.status, 'canceled');
  assert.equal(await h.service.worker.handle('email', incoming(h, r)), 'skipped');
  assert.equal(await calls(h, r.id), 0);
  assert.equal((await getStatus(h, r.id)).body.status, 'canceled');
  // Cancel is idempotent.
  assert.equal((await cancelOverHttp(h, r)).status, 200);
});

test('cancel after the provider call is 409 with the current status; a malformed cancel is 400', async (t) => {
  const h = await startDelivery();
  t.after(() => h.close());
  const r = record();
  assert.equal(await h.service.worker.handle('email', incoming(h, r)), 'sent');
  const res = await cancelOverHttp(h, r);
  assert.equal(res.status, 409);
  assert.equal(res.body.code, 'MESSAGE_NOT_CANCELABLE');
  assert.equal(res.body.status, 'sent');
  const bad = await fetch(`${h.url}/internal/v1/messages/${r.id}/cancel`, { method: 'POST', headers: { ...SERVICE_AUTH, 'content-type': 'application/json' }, body: '{"channel":"fax"}' });
  assert.equal(bad.status, 400);
});

test('cancel while a provider call is under way is refused (pending); the call completes as sent', async (t) => {
  let release: () => void = () => {};
  let arrived: () => void = () => {};
  const held = new Promise<void>((resolve) => { arrived = resolve; });
  const h = await startDelivery({
    providers: (defaults) => {
      const gated: Provider = {
        name: 'gated-email',
        async send(req, signal) {
          await new Promise<void>((resolve) => { release = resolve; arrived(); });
          return defaults.email.send(req, signal);
        },
      };
      return { ...defaults, email: gated } as Providers;
    },
  });
  t.after(() => h.close());
  const r = record();
  const handling = h.service.worker.handle('email', incoming(h, r));
  await held;
  const during = await h.service.store.cancel(r.id, cancelRequest(r), new Date());
  assert.deepEqual(during, { canceled: false, status: 'pending' });
  release();
  assert.equal(await handling, 'sent');
  assert.deepEqual(await h.service.store.cancel(r.id, cancelRequest(r), new Date()), { canceled: false, status: 'sent' });
});

/**
 * Cancel and delivery at the same moment, many times: the claim and the cancel take the same row
 * lock, so each message ends either canceled with no provider call, or sent with the cancel
 * refused — never both, never neither.
 */
test('cancel vs delivery race: canceled with no provider call, or refused and sent, never both', async (t) => {
  const h = await startDelivery();
  t.after(() => h.close());
  const tally = { canceled: 0, sent: 0 };
  for (let i = 0; i < 60; i++) {
    const r = record();
    // Half the rounds save the record first (cancel meets a pending row), half race the insert too.
    if (i % 2 === 0) await h.service.store.saveReceived([r], new Date());
    // The cancel starts 0-14 ms after the delivery, so it lands before, during and after the claim.
    const [handled, canceled] = await Promise.all([
      h.service.worker.handle('email', incoming(h, r)),
      new Promise((resolve) => setTimeout(resolve, i % 15)).then(() => h.service.store.cancel(r.id, cancelRequest(r), new Date())),
    ]);
    const n = await calls(h, r.id);
    const status = (await getStatus(h, r.id)).body.status;
    if (canceled.canceled) {
      assert.equal(handled, 'skipped', `round ${i}`);
      assert.equal(n, 0, `round ${i}: canceled but the provider was called`);
      assert.equal(status, 'canceled');
      tally.canceled++;
    } else {
      assert.equal(handled, 'sent', `round ${i}`);
      assert.equal(n, 1);
      assert.equal(status, 'sent');
      assert.ok(['pending', 'sent'].includes(canceled.status), `round ${i}: cancel answered ${canceled.status}`);
      tally.sent++;
    }
  }
  t.diagnostic(`canceled ${tally.canceled}, sent ${tally.sent}`);
  assert.equal(tally.canceled + tally.sent, 60);
});
