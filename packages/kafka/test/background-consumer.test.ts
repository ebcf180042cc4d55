import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Consumer } from 'kafkajs';
import { backgroundConsumer } from '../src/background-consumer';

/** A stand-in that records disconnects; the behaviour under test is the retry loop, not kafkajs. */
function fakeConsumer(log: string[], name: string): Consumer {
  return { disconnect: async () => { log.push(`disconnect ${name}`); } } as unknown as Consumer;
}

test('a failed join is logged, its consumer disconnected, and a fresh one tried after retryMs; stop() ends it', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const log: string[] = [];
  const warnings: string[] = [];
  let made = 0;
  const outcomes = [() => Promise.reject(new Error('broker down')), () => new Promise<void>(() => undefined)];
  const bg = backgroundConsumer({
    what: 'status projection',
    retryMs: 5_000,
    logger: { warn: (m) => warnings.push(m) },
    create: () => fakeConsumer(log, `c${++made}`),
    run: () => { log.push(`run c${made}`); return outcomes.shift()!(); },
  });
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

  bg.start();
  await flush();
  assert.deepEqual(log, ['run c1', 'disconnect c1']);
  assert.deepEqual(warnings, ['status projection could not join its group; retrying']);
  t.mock.timers.tick(4_999);
  await flush();
  assert.equal(made, 1, 'not before retryMs');
  t.mock.timers.tick(1);
  await flush();
  assert.deepEqual(log, ['run c1', 'disconnect c1', 'run c2']);

  bg.start(); // already running: no second consumer
  assert.equal(made, 2);
  await bg.stop();
  assert.deepEqual(log.at(-1), 'disconnect c2');
});
