import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runKeyOrderedBatch } from '../../src/worker/key-ordered-batch';

const item = (offset: number, key: string) => ({ offset: String(offset), key });

function gate() {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => { open = resolve; });
  return { promise, open };
}

test('different keys run concurrently up to the bound; one key strictly in offset order', async () => {
  const items = [item(0, 'a'), item(1, 'b'), item(2, 'a'), item(3, 'c'), item(4, 'b'), item(5, 'a')];
  const order: string[] = [];
  let inFlight = 0;
  let peak = 0;
  await runKeyOrderedBatch(items, {
    concurrency: 2,
    handle: async (it) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5 + (Number(it.offset) % 3)));
      order.push(it.offset);
      inFlight--;
    },
    resolveOffset: () => {},
    shouldContinue: () => true,
    heartbeat: async () => {},
  });
  assert.equal(peak, 2);
  const ofKey = (k: string) => order.filter((o) => items[Number(o)]!.key === k);
  assert.deepEqual(ofKey('a'), ['0', '2', '5']);
  assert.deepEqual(ofKey('b'), ['1', '4']);
});

test('the offset only moves up to the oldest unfinished record', async () => {
  const items = [item(10, 'slow'), item(11, 'x'), item(12, 'y')];
  const slow = gate();
  const resolved: string[] = [];
  const run = runKeyOrderedBatch(items, {
    concurrency: 3,
    handle: async (it) => { if (it.key === 'slow') await slow.promise; },
    resolveOffset: (o) => resolved.push(o),
    shouldContinue: () => true,
    heartbeat: async () => {},
  });
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(resolved, [], '11 and 12 are done but 10 is not: nothing may be committed');
  slow.open();
  await run;
  assert.deepEqual(resolved, ['12']);
});

test('a failure stops new work, lets in-flight records finish, resolves the done prefix and rethrows', async () => {
  const items = [item(0, 'a'), item(1, 'b'), item(2, 'a'), item(3, 'c')];
  const started: string[] = [];
  const resolved: string[] = [];
  await assert.rejects(runKeyOrderedBatch(items, {
    concurrency: 2,
    handle: async (it) => {
      started.push(it.offset);
      if (it.offset === '1') throw new Error('database down');
      await new Promise((r) => setTimeout(r, 5));
    },
    resolveOffset: (o) => resolved.push(o),
    shouldContinue: () => true,
    heartbeat: async () => {},
  }), /database down/);
  assert.deepEqual(resolved, ['0'], 'offset 1 failed, so nothing past 0 is resolved');
  assert.ok(!started.includes('3'), 'no new chain starts after the failure');
});
