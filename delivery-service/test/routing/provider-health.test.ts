import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProviderHealth, orderCandidates } from '../../src/routing/provider-health';
import { seededRandom } from '../../src/providers/seeded-random';

test('health is damped: single failures do not degrade; a run of failures does; recovery needs a run of successes', () => {
  const h = createProviderHealth({ alpha: 0.2, minSamples: 5, degradeAbove: 0.5, recoverBelow: 0.2, slowMs: 1000 });
  for (let i = 0; i < 10; i++) h.record(i % 4 !== 0, 50); // one failure in four
  assert.equal(h.degraded(), false);
  for (let i = 0; i < 4; i++) h.record(false, 50);
  assert.equal(h.degraded(), true, `error rate ${h.snapshot().errorRate}`);
  h.record(true, 50);
  h.record(true, 50);
  assert.equal(h.degraded(), true, 'two successes do not flip it back (hysteresis)');
  for (let i = 0; i < 6; i++) h.record(true, 50);
  assert.equal(h.degraded(), false);
});

test('a slow provider is degraded on latency alone and goes last; weighted mode draws by weight among the healthy', () => {
  const slow = { id: 'slow', weight: 1, health: createProviderHealth({ alpha: 0.5, minSamples: 2, degradeAbove: 0.5, recoverBelow: 0.2, slowMs: 1000 }) };
  const fast = { id: 'fast', weight: 1, health: createProviderHealth() };
  for (let i = 0; i < 3; i++) slow.health.record(true, 4000);
  assert.equal(slow.health.degraded(), true);
  assert.deepEqual(orderCandidates([slow, fast], 'ordered', Math.random).map((c) => c.id), ['fast', 'slow']);

  const a = { id: 'a', weight: 3, health: createProviderHealth() };
  const b = { id: 'b', weight: 1, health: createProviderHealth() };
  const random = seededRandom(3);
  const firsts = { a: 0, b: 0 };
  for (let i = 0; i < 4000; i++) firsts[orderCandidates([a, b], 'weighted', random)[0]!.id as 'a' | 'b'] += 1;
  const share = firsts.a / 4000;
  assert.ok(share > 0.72 && share < 0.78, `a first in ${share} of draws (weight 3:1)`);
});
