import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testSchema } from '@ca/testing';
import { createFaults, withQueryLatency } from '../src';

const DELAY_MS = 150;

test('postgres.latency_ms delays every statement on its connection, in and out of transactions, and labels it', async (t) => {
  const { db, cleanup } = await testSchema('faults');
  t.after(cleanup);
  const faults = createFaults();
  withQueryLatency(db, faults);
  await db.schema.createTable('items', (tb) => { tb.increments('id'); tb.text('name'); });

  const timed = async <T>(fn: () => Promise<T>) => {
    const started = performance.now();
    const value = await fn();
    return { value, ms: performance.now() - started };
  };
  // Off: untouched text, no wait.
  const off = await timed(() => db.raw('select current_query() as q'));
  assert.doesNotMatch(off.value.rows[0].q, /ca\.fault/);

  faults.replace({ 'postgres.latency_ms': DELAY_MS });
  const on = await timed(() => db.raw('select current_query() as q'));
  assert.ok(on.ms >= DELAY_MS, `a statement took ${on.ms} ms`);
  assert.match(on.value.rows[0].q, /\/\* ca\.fault\.injected='postgres\.latency_ms',ca\.fault\.delay_ms='150' \*\/$/, 'the server saw the label');

  // A transaction: BEGIN, insert, select, COMMIT: each statement waits, in order, on one connection.
  const trx = await timed(() => db.transaction(async (tx) => {
    await tx('items').insert({ name: 'a' });
    return tx('items').count({ n: '*' }).first();
  }));
  assert.equal(Number((trx.value as { n: string }).n), 1);
  assert.ok(trx.ms >= 4 * DELAY_MS, `a 4-statement transaction took ${trx.ms} ms`);

  // Bad SQL still fails as itself, after the wait, and the connection stays usable.
  await assert.rejects(db.raw('select * from no_such_table'), /no_such_table/);
  faults.clear();
  assert.deepEqual(await db('items').select('name'), [{ name: 'a' }]);
  assert.doesNotMatch((await db.raw('select current_query() as q')).rows[0].q, /ca\.fault/, 'off again: statements go through untouched');
});
