import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDb } from '@ca/postgres';
import { useBroker } from '../support/kafka';
import { countRows, defer, manualClock, postMessage, SAMPLES, startRouter, testDb, TEST_DATABASE_URL } from '../support/router-harness';

const brokers = useBroker();

test('the same content within the window is 409 with duplicateOf; after the window it is accepted', async (t) => {
  const clock = manualClock();
  const h = await startRouter(t, { brokers: brokers(), clock, settings: { dedupWindowSeconds: 3600 } });
  const first = await postMessage(h.url, SAMPLES.email);
  assert.equal(first.status, 202);
  const originalId = (first.body as { id: string }).id;

  clock.advance(3599);
  const dup = await postMessage(h.url, { ...SAMPLES.email, priority: 'high' });
  assert.equal(dup.status, 409);
  assert.equal(dup.body.code, 'DUPLICATE_MESSAGE');
  assert.equal(dup.body.duplicateOf, originalId);

  // Another recipient, subject or body is another message.
  assert.equal((await postMessage(h.url, { ...SAMPLES.email, to: 'john@example.com' })).status, 202);
  assert.equal((await postMessage(h.url, { ...SAMPLES.email, subject: 'Other' })).status, 202);

  clock.advance(1); // window over
  const later = await postMessage(h.url, SAMPLES.email);
  assert.equal(later.status, 202);
  assert.notEqual((later.body as { id: string }).id, originalId);
  const again = await postMessage(h.url, SAMPLES.email);
  assert.equal(again.status, 409);
  assert.equal(again.body.duplicateOf, (later.body as { id: string }).id);
  assert.equal(await countRows(h.db, 'messages'), 4);
});

test('100 concurrent identical requests across two router processes: exactly one 202, 99 × 409 naming it', async (t) => {
  const { db, schema } = await testDb(t);
  // A second pool on the same schema plays a second router process: only PostgreSQL is shared.
  const db2 = createDb({ url: TEST_DATABASE_URL, schema, pool: { min: 0, max: 20 } });
  defer(t, () => db2.destroy());
  const a = await startRouter(t, { brokers: brokers(), db });
  const b = await startRouter(t, { brokers: brokers(), db: db2, settings: { topicPrefix: a.settings.topicPrefix } });

  const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => postMessage(i % 2 ? a.url : b.url, SAMPLES.sms)));
  const accepted = responses.filter((r) => r.status === 202);
  const duplicates = responses.filter((r) => r.status === 409);
  assert.equal(accepted.length, 1);
  assert.equal(duplicates.length, 99);
  const id = (accepted[0]!.body as { id: string }).id;
  for (const d of duplicates) {
    assert.equal(d.body.code, 'DUPLICATE_MESSAGE');
    assert.equal(d.body.duplicateOf, id);
  }
  assert.equal(await countRows(db, 'messages'), 1);
  assert.equal(await countRows(db, 'outbox'), 1);
});
