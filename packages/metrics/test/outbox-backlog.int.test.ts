import test from 'node:test';
import assert from 'node:assert/strict';
import { createOutboxTable, enqueue, outboxBacklog } from '@ca/outbox';
import { testSchema } from '@ca/testing';
import { observeOutbox } from '../src';
import { prometheusHarness, sample } from './support';

test('outbox gauges over a real outbox table: due and scheduled rows, age of the oldest due row', async (t) => {
  const { db, cleanup } = await testSchema('metrics');
  t.after(cleanup);
  await createOutboxTable(db);
  const t0 = new Date('2026-01-01T00:00:00Z');
  const at = (s: number) => new Date(t0.getTime() + s * 1000);
  await db.transaction((trx) => enqueue(trx, [
    { topic: 'send.email', key: 'a', value: '{}', headers: {} },
    { topic: 'send.email', key: 'b', value: '{}', headers: {} },
  ], t0));
  await db.transaction((trx) => enqueue(trx, [{ topic: 'send.email.retry', key: 'c', value: '{}', headers: {}, notBefore: at(60) }], at(5)));

  assert.deepEqual(await outboxBacklog(db, at(30)), { due: 2, scheduled: 1, oldestDueAgeSeconds: 30 });
  // The retry row came due at +60 s: at +90 s it is due, and the rows from t0 are still the oldest.
  assert.deepEqual(await outboxBacklog(db, at(90)), { due: 3, scheduled: 0, oldestDueAgeSeconds: 90 });

  const h = await prometheusHarness();
  t.after(() => h.close());
  const gauges = observeOutbox({ meter: h.meter, minIntervalMs: 0, read: () => outboxBacklog(db, at(30)) });
  t.after(() => gauges.close());
  const text = await h.scrape();
  assert.equal(sample(text, 'ca_outbox_rows', { state: 'due' }), 2);
  assert.equal(sample(text, 'ca_outbox_rows', { state: 'scheduled' }), 1);
  assert.equal(sample(text, 'ca_outbox_oldest_due_age'), 30);

  await db('outbox').delete();
  assert.deepEqual(await outboxBacklog(db, at(30)), { due: 0, scheduled: 0, oldestDueAgeSeconds: 0 });
});
