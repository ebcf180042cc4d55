import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { SendRecord } from '@ca/contracts';
import { manualClock, waitFor } from '@ca/testing';
import { startDelivery } from '../harness';
import type { Provider, ProviderResult, Providers } from '../../src/providers/provider';

/**
 * delivery-service whose email provider holds its first call open until release(); `held` resolves
 * when that call has arrived. `firstResult` is what the held call returns (default: a real send).
 */
async function withHeldFirstCall(t: TestContext, clock: ReturnType<typeof manualClock>, firstResult?: ProviderResult) {
  let release: () => void = () => {};
  let arrived: () => void = () => {};
  const held = new Promise<void>((resolve) => { arrived = resolve; });
  let calls = 0;
  const h = await startDelivery({
    clock,
    leaseMs: 10_000,
    providers: (defaults) => {
      const gated: Provider = {
        name: 'gated-email',
        async send(req, signal) {
          calls += 1;
          if (calls === 1) {
            await new Promise<void>((resolve) => { release = resolve; arrived(); });
            if (firstResult) return firstResult;
          }
          return defaults.email.send(req, signal);
        },
      };
      return { ...defaults, email: gated } as Providers;
    },
  });
  t.after(() => h.close());
  return { h, held, release: () => release() };
}

/**
 * A worker that stalls past its lease must not act on a message another worker took over.
 * Two handle() calls play two workers: A's provider call is held open, the clock passes A's lease,
 * B claims the message (fence 2) and delivers it; then A's call returns and A tries to write.
 */
test('a stalled worker whose lease expired is fenced out; the effect happens once', async (t) => {
  const clock = manualClock(new Date());
  const { h, held, release: releaseA } = await withHeldFirstCall(t, clock);

  const record: SendRecord = {
    v: 1, id: randomUUID(), channel: 'email', to: 'stall@example.com', subject: 's', body: 'b',
    priority: 'high', createdAt: new Date().toISOString(), traceId: randomUUID().replace(/-/g, ''),
  };
  const value = Buffer.from(JSON.stringify(record));
  const incoming = { topic: h.topics.send('email'), value, headers: {} };

  const workerA = h.service.worker.handle('email', incoming);
  await held;
  // While A holds a live lease, a redelivered record is skipped, not processed twice.
  assert.equal(await h.service.worker.handle('email', incoming), 'skipped');

  clock.advance(10_001); // A's lease has run out
  assert.equal(await h.service.worker.handle('email', { ...incoming, topic: h.topics.retry('email') }), 'sent');

  releaseA();
  assert.equal(await workerA, 'fenced');

  const row = await h.db('messages').where({ id: record.id }).first();
  assert.equal(row.status, 'sent');
  assert.equal(Number(row.fence), 2);
  const attempts = await h.db('attempts').where({ message_id: record.id });
  assert.equal(attempts.length, 1, 'only the live worker recorded an attempt');
  const effects = await h.db('sim_provider_effects').where({ idempotency_key: record.id });
  assert.equal(effects.length, 1, 'the provider delivered once although it was called twice');
  const providerCalls = await h.db('sim_provider_calls').where({ idempotency_key: record.id }).orderBy('id');
  assert.deepEqual(providerCalls.map((c) => c.outcome), ['delivered', 'duplicate_suppressed']);
});

/**
 * A fenced-out worker can publish nothing: its dead letter is an outbox row written in the same
 * transaction as its (refused) outcome, so when the fence no longer matches, neither exists.
 */
test('a fenced-out worker whose call failed permanently publishes no dead letter', async (t) => {
  const clock = manualClock(new Date());
  const { h, held, release: releaseA } = await withHeldFirstCall(t, clock, { ok: false, reason: 'mailbox does not exist', retryable: false });
  h.service.relay.start();

  const record: SendRecord = {
    v: 1, id: randomUUID(), channel: 'email', to: 'fenced@example.com', subject: 's', body: 'b',
    priority: 'high', createdAt: new Date().toISOString(), traceId: randomUUID().replace(/-/g, ''),
  };
  const incoming = { topic: h.topics.send('email'), value: Buffer.from(JSON.stringify(record)), headers: {} };
  const workerA = h.service.worker.handle('email', incoming);
  await held;
  clock.advance(10_001);
  assert.equal(await h.service.worker.handle('email', { ...incoming, topic: h.topics.retry('email') }), 'sent');
  releaseA();
  assert.equal(await workerA, 'fenced');

  const row = await h.db('messages').where({ id: record.id }).first();
  assert.equal(row.status, 'sent');
  const outbox = await h.db('outbox').select('topic');
  assert.deepEqual(outbox.filter((o) => o.topic === h.topics.deadLetter), [], 'no dead letter enqueued');
  // Let the relay publish whatever is due, then the topic must hold only a marker written after.
  await waitFor('the relay to drain due rows', async () => (await h.db('outbox').where('not_before', '<=', clock.now()).orWhereNull('not_before')).length === 0);
  await h.producer.send({ topic: h.topics.deadLetter, acks: -1, messages: [{ key: 'marker', value: 'marker' }] });
  const dlq = await h.readDeadLetters();
  t.after(() => dlq.stop());
  const seen = await waitFor('the marker on the dead-letter topic', async () => (dlq.records.some((r) => r.key === 'marker') ? dlq.records : null));
  assert.deepEqual(seen.map((r) => r.key), ['marker']);
});
