import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '@ca/testing';
import { SERVICE_AUTH, getStatus, startDelivery } from '../harness';

/**
 * The live dashboard's numbers (router GET /v1/dashboard reads them here): per channel and
 * provider, by current status, retries counted, and only the asking merchant's messages.
 */
test('delivery-stats: sent, failed, retries and the last minute per channel and provider, one merchant only', async (t) => {
  const firstTries = new Set<string>();
  const h = await startDelivery({
    maxAttempts: 3, baseMs: 20,
    providers: (defaults) => ({
      ...defaults,
      // retry@… fails once (transient), then goes; bad@… is refused for good.
      email: {
        name: defaults.email.name,
        send: async (req, signal) => {
          if (req.to.startsWith('bad@')) return { ok: false, reason: 'mailbox does not exist', retryable: false, notAccepted: true };
          if (req.to.startsWith('retry@') && !firstTries.has(req.idempotencyKey)) {
            firstTries.add(req.idempotencyKey);
            return { ok: false, reason: 'try again', retryable: true, notAccepted: true };
          }
          return defaults.email.send(req, signal);
        },
      },
    }),
  });
  t.after(() => h.close());
  await h.startConsuming();
  const acme = randomUUID();
  const other = randomUUID();
  const sent = await Promise.all([
    h.send('email', 'ok1@example.com', { tenantId: acme }), h.send('email', 'retry@example.com', { tenantId: acme }),
    h.send('email', 'bad@example.com', { tenantId: acme }), h.send('sms', '+14155550100', { tenantId: acme }),
    h.send('email', 'ok2@example.com', { tenantId: other }),
  ]);
  await waitFor('every message finished', async () => {
    const views = await Promise.all(sent.map((r) => getStatus(h, r.id)));
    return views.every((v) => ['sent', 'failed'].includes(v.body.status as string));
  }, 60_000);

  const stats = async (tenantId: string, since: Date, recentSince = since) => {
    const q = new URLSearchParams({ since: since.toISOString(), recentSince: recentSince.toISOString() });
    const res = await fetch(`${h.url}/internal/v1/tenants/${tenantId}/delivery-stats?${q}`, { headers: SERVICE_AUTH });
    return { status: res.status, body: (await res.json()) as { rows: Array<Record<string, unknown>> } };
  };
  const hourAgo = new Date(Date.now() - 3600_000);
  const mine = await stats(acme, hourAgo);
  assert.equal(mine.status, 200);
  assert.deepEqual(mine.body.rows, [
    { channel: 'email', provider: 'simulated-email', sent: 2, failed: 1, retrying: 0, pending: 0, retries: 1, sentRecently: 2 },
    { channel: 'sms', provider: 'simulated-sms', sent: 1, failed: 0, retrying: 0, pending: 0, retries: 0, sentRecently: 1 },
  ]);
  assert.deepEqual((await stats(other, hourAgo)).body.rows.map((r) => [r.channel, r.sent]), [['email', 1]], 'the other merchant sees only its own');
  // A delivery receipt moves a sent message on (as receipt-store does: status and updated_at): it still counts as sent, and when it was sent.
  await h.db('messages').where({ id: sent[0]!.id }).update({ status: 'delivered', updated_at: new Date(Date.now() + 120_000) });
  assert.deepEqual((await stats(acme, hourAgo, new Date(Date.now() + 60_000))).body.rows.map((r) => [r.channel, r.sent, r.sentRecently]), [['email', 2, 0], ['sms', 1, 0]]);
  assert.equal((await stats(acme, hourAgo)).body.rows[0]!.sent, 2, 'a delivered message is still a sent one');
  assert.deepEqual((await stats(acme, new Date(Date.now() + 60_000))).body.rows, [], 'nothing accepted after the window start');
  assert.equal((await stats(acme, hourAgo, new Date(Date.now() + 60_000))).body.rows[0]!.sentRecently, 0);
  assert.equal((await fetch(`${h.url}/internal/v1/tenants/${acme}/delivery-stats?since=yesterday&recentSince=x`, { headers: SERVICE_AUTH })).status, 400);
  assert.equal((await fetch(`${h.url}/internal/v1/tenants/${acme}/delivery-stats?since=${hourAgo.toISOString()}&recentSince=${hourAgo.toISOString()}`)).status, 401, 'behind the service token');
});
