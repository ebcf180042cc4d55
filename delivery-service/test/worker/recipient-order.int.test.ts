import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { HEADERS, recordKey, type SendRecord } from '@ca/contracts';
import { waitFor } from '@ca/testing';
import { startDelivery } from '../harness';

/**
 * Under full concurrency (many keys in flight per partition), one recipient's messages reach the
 * provider in the order they were published, while other recipients' messages run alongside.
 */
test('one recipient\'s messages are sent in order while other recipients run concurrently', async (t) => {
  const h = await startDelivery({
    providers: (defaults) => ({
      ...defaults,
      // A little latency that varies per message, so a concurrent scheduler would reorder them.
      sms: { name: defaults.sms.name, send: async (req, signal) => { await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 15))); return defaults.sms.send(req, signal); } },
    }),
  });
  t.after(() => h.close());
  const ordered = '+14155550999';
  const records: SendRecord[] = [];
  for (let i = 0; i < 120; i++) {
    const to = i % 3 === 0 ? ordered : `+1415556${String(1000 + i)}`;
    records.push({ v: 1, id: randomUUID(), channel: 'sms', to, body: `n${i}`, priority: 'medium', createdAt: new Date().toISOString(), traceId: randomUUID().replace(/-/g, '') });
  }
  await h.producer.send({
    topic: h.topics.send('sms'),
    acks: -1,
    messages: records.map((r) => ({ key: recordKey('sms', r.to), value: JSON.stringify(r), headers: { [HEADERS.messageId]: r.id } })),
  });
  await h.startConsuming();
  await waitFor('all 120 sent', async () => Number((await h.db('messages').where({ status: 'sent' }).count({ n: '*' }).first())?.n) === 120, 180_000); // a deadline for a loaded 2-core box, not a speed claim

  const mine = records.filter((r) => r.to === ordered).map((r) => r.id);
  const calls: Array<{ idempotency_key: string }> = await h.db('sim_provider_calls').whereIn('idempotency_key', mine).orderBy('id').select('idempotency_key');
  assert.deepEqual(calls.map((c) => c.idempotency_key), mine, 'provider calls for the recipient in publish order');
  const all: Array<{ idempotency_key: string }> = await h.db('sim_provider_calls').orderBy('id').select('idempotency_key');
  const byPublish = records.map((r) => r.id);
  assert.notDeepEqual(all.map((c) => c.idempotency_key), byPublish, 'other recipients overtook each other: the work ran concurrently');
});
