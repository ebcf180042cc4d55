import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DEAD_LETTER_REASONS, HEADERS, recordKey, topicsFor, type SendRecord } from '@ca/contracts';
import { createDb } from '@ca/postgres';
import { createLogger } from '@ca/telemetry';
import { waitFor } from '@ca/testing';
import { startDelivery } from '../harness';
import { createMessageStore } from '../../src/store/message-store';
import { createDeliveryWorker } from '../../src/worker/delivery-worker';
import { createSimulatedProviders } from '../../src/providers/simulated-provider';
import { seededRandom } from '../../src/providers/seeded-random';

const TO = 'poison.neighbour@example.com';

function sendRecord(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    v: 1, id: randomUUID(), channel: 'email', to: TO, subject: 'Hello', body: 'fine', priority: 'medium',
    createdAt: new Date().toISOString(), traceId: randomUUID().replace(/-/g, ''), ...extra,
  };
}

/**
 * Records that pass (or slip past) the schema but that PostgreSQL refuses as data: each is
 * dead-lettered with the SQLSTATE and the partition moves on, so the good messages behind them on
 * the same partition (same key) are delivered.
 */
test('records PostgreSQL refuses are dead-lettered; later messages on the partition are delivered', async (t) => {
  const h = await startDelivery();
  t.after(() => h.close());
  const dlq = await h.readDeadLetters();
  t.after(() => dlq.stop());
  await h.startConsuming();

  const id = randomUUID();
  const poisons = [
    sendRecord({ body: 'nul \u0000 inside' }),
    sendRecord({ id: `[${id}]` }),
    sendRecord({ id: id.replaceAll('-', ':') }),
  ];
  const goods = [sendRecord({ body: 'good 1' }), sendRecord({ body: 'good 2' })];
  const key = recordKey('email', TO);
  await h.producer.send({
    topic: h.topics.send('email'),
    acks: -1,
    messages: [...poisons, ...goods].map((r) => ({ key, value: JSON.stringify(r), headers: { [HEADERS.messageId]: String(r.id) } })),
  });

  for (const good of goods) {
    await waitFor(`good message ${String(good.id)} sent`, async () => (await h.db('messages').where({ id: good.id, status: 'sent' }).first()) ?? null, 30_000);
  }
  const dead = await waitFor('three dead letters', async () => {
    const m = dlq.records.filter((d) => d.headers[HEADERS.dlqReason] === DEAD_LETTER_REASONS.malformed);
    return m.length >= 3 ? m : null;
  }, 30_000);
  const raws = dead.map((d) => JSON.parse(d.value) as { record: string; error: string });
  for (const poison of poisons) {
    const found = raws.find((r) => r.record === JSON.stringify(poison));
    assert.ok(found, `poison ${JSON.stringify(poison.id)} is on the dead-letter topic with its raw record`);
    assert.match(found.error, /SQLSTATE 22|send schema/, 'the reason says why');
  }
  assert.equal(await h.db('messages').whereIn('id', goods.map((g) => String(g.id))).count({ n: '*' }).first().then((r) => Number(r?.n)), 2);
});

/** An outage is not the record's fault: the worker throws (offset not committed), nothing is dead-lettered. */
test('PostgreSQL unreachable: the record is not dead-lettered, the handler fails so the offset stays', async () => {
  const db = createDb({ url: 'postgres://postgres@127.0.0.1:1/nowhere', schema: 'nowhere', pool: { min: 0, max: 1 } });
  try {
    const clock = { now: () => new Date() };
    let enqueued = 0;
    const worker = createDeliveryWorker({
      store: createMessageStore(db),
      providers: createSimulatedProviders({ db, clock, random: seededRandom(1), latencyMs: 0, failureRate: 0 }),
      topics: topicsFor('outage.'),
      policy: { maxAttempts: 3, backoff: { baseMs: 10, factor: 2, maxMs: 100 }, leaseMs: 5000, providerTimeoutMs: 1000 },
      clock, random: seededRandom(2), logger: createLogger({ service: 'test', level: 'error', silent: true }),
      workerId: 'w', maxBatch: 10, onEnqueued: () => { enqueued++; },
    });
    const record = sendRecord({}) as unknown as SendRecord;
    await assert.rejects(worker.handle('email', { topic: 'outage.send.email', value: Buffer.from(JSON.stringify(record)), headers: {} }), /ECONNREFUSED|connect/);
    assert.equal(enqueued, 0);
  } finally {
    await db.destroy();
  }
});
