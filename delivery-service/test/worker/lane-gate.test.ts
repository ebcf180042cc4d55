import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLaneGate } from '../../src/worker/lane-gate';

/** Time is node:test's mocked clock: Date.now and setTimeout move only when the test ticks them. */
test('LOW waits while HIGH runs and for the quiet time after it, at most maxHold at a time; 0 turns the gate off', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const gate = createLaneGate({ quietMs: 250, maxHoldMs: 2_000 });
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

  // No HIGH seen yet: LOW starts at once.
  let started = false;
  await gate.lowMayStart().then(() => { started = true; });
  assert.ok(started);

  // A HIGH record runs: a LOW record waits for it and then for the quiet time.
  let finishHigh!: () => void;
  const high = gate.high(() => new Promise<void>((resolve) => { finishHigh = resolve; }));
  let low = false;
  void gate.lowMayStart().then(() => { low = true; });
  t.mock.timers.tick(1_000);
  await flush();
  assert.equal(low, false, 'held while HIGH runs');
  finishHigh();
  await high;
  t.mock.timers.tick(249);
  await flush();
  assert.equal(low, false, 'held during the quiet time');
  t.mock.timers.tick(1);
  await flush();
  assert.equal(low, true, 'released once HIGH has been quiet for quietMs');

  // HIGH that never stops: LOW still starts after maxHoldMs (no starvation).
  const endless = gate.high(() => new Promise<void>((resolve) => { finishHigh = resolve; }));
  let starved = false;
  void gate.lowMayStart().then(() => { starved = true; });
  t.mock.timers.tick(1_999);
  await flush();
  assert.equal(starved, false);
  t.mock.timers.tick(1);
  await flush();
  assert.equal(starved, true, 'released after maxHoldMs');
  finishHigh();
  await endless;

  // quietMs 0: the gate never holds.
  const off = createLaneGate({ quietMs: 0, maxHoldMs: 2_000 });
  let offRunning!: () => void;
  const busy = off.high(() => new Promise<void>((resolve) => { offRunning = resolve; }));
  let free = false;
  await off.lowMayStart().then(() => { free = true; });
  assert.ok(free);
  offRunning();
  await busy;
});
