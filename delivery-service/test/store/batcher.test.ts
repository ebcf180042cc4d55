import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBatcher } from '../../src/store/batcher';

test('batcher: an urgent item joins the next batch ahead of waiting non-urgent ones, in arrival order among urgent', async () => {
  const batches: string[][] = [];
  let releaseFirst: () => void = () => {};
  const firstHeld = new Promise<void>((resolve) => { releaseFirst = resolve; });
  const b = createBatcher<string, string>(async (items) => {
    batches.push(items);
    if (batches.length === 1) await firstHeld;
    return items.map((i) => i.toUpperCase());
  }, 3);
  const results = [b.add('low0')];
  await new Promise((resolve) => setImmediate(resolve)); // low0's batch is running
  results.push(b.add('low1'), b.add('low2'), b.add('low3'), b.add('high1', { urgent: true }), b.add('low4'), b.add('high2', { urgent: true }));
  releaseFirst();
  assert.deepEqual(await Promise.all(results), ['LOW0', 'LOW1', 'LOW2', 'LOW3', 'HIGH1', 'LOW4', 'HIGH2']);
  assert.deepEqual(batches, [['low0'], ['high1', 'high2', 'low1'], ['low2', 'low3', 'low4']]);
});
