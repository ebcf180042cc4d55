import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelayMs } from '../../src/retry/backoff';

const policy = { baseMs: 1000, factor: 2, maxMs: 60_000 };

test('backoff doubles per failed attempt and keeps half of each step fixed', () => {
  assert.equal(backoffDelayMs(policy, 1, () => 0), 500);
  assert.equal(backoffDelayMs(policy, 1, () => 1), 1000);
  assert.equal(backoffDelayMs(policy, 2, () => 0), 1000);
  assert.equal(backoffDelayMs(policy, 3, () => 0.5), 3000);
});

test('backoff never exceeds the cap, even with the largest jitter', () => {
  assert.equal(backoffDelayMs(policy, 30, () => 1), 60_000);
  assert.equal(backoffDelayMs(policy, 30, () => 0), 30_000);
});

test('below the cap (factor 2), whatever the jitter, a later attempt never waits less than an earlier one', () => {
  for (let n = 1; n <= 5; n++) {
    assert.ok(backoffDelayMs(policy, n + 1, () => 0) >= backoffDelayMs(policy, n, () => 1));
  }
});
