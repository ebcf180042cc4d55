import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@ca/telemetry';
import { createRecordPipeline, type CommitOffset } from '../../src/worker/record-pipeline';

const silent = createLogger({ service: 'test', level: 'error', silent: true });
const rec = (offset: number, key: string | null) => ({ offset: String(offset), key });

function gate() {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => { open = resolve; });
  return { promise, open };
}

/** A fake batch context recording what kafkajs would be told. */
function context() {
  const resolved: string[] = [];
  return { resolved, ctx: { resolveOffset: (o: string) => { resolved.push(o); }, heartbeat: async () => {}, shouldContinue: () => true } };
}

/** Until every record handed over has finished (or given up): polls the pipeline's own count. */
async function settled(pipeline: { size(): number }): Promise<void> {
  while (pipeline.size() > 0) await new Promise((r) => setTimeout(r, 1));
}

function harness(opts: { concurrency: number; handle: (r: { offset: string; key: string | null }) => Promise<void>; retryDelayMs?: number; onCommit?: (offsets: CommitOffset[]) => void }) {
  const commits: CommitOffset[][] = [];
  const committed = () => commits.flat().map((c) => `${c.topic}/${c.partition}@${c.offset}`);
  const pipeline = createRecordPipeline({
    concurrency: opts.concurrency,
    handle: (r) => opts.handle(r),
    commit: async (offsets) => { opts.onCommit?.(offsets); commits.push(offsets); },
    retryDelayMs: () => opts.retryDelayMs ?? 1,
    logger: silent,
  });
  return { pipeline, commits, committed };
}

test('dispatch returns before the records finish; the next batch runs while the first is still in flight', async () => {
  const first = gate();
  const started: string[] = [];
  const h = harness({ concurrency: 8, handle: async (r) => { started.push(r.offset); if (r.offset === '0') await first.promise; } });
  const { ctx, resolved } = context();
  await h.pipeline.dispatch({ topic: 't', partition: 0, records: [rec(0, 'a')] }, ctx);
  assert.deepEqual(resolved, ['0'], 'the fetch position moved past the dispatched record');
  assert.equal(h.pipeline.size(), 1, 'record 0 is still running');
  // The next fetch's batch: another key runs at once, behind nothing.
  await h.pipeline.dispatch({ topic: 't', partition: 0, records: [rec(1, 'b')] }, ctx);
  while (h.pipeline.size() > 1) await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, ['0', '1']);
  // Offset 1 finished, 0 did not: nothing may be committed yet (0 would be lost by a crash).
  assert.deepEqual(h.committed(), []);
  first.open();
  await h.pipeline.stop();
  assert.deepEqual(h.committed().at(-1), 't/0@2', 'once 0 finished, the commit covers both');
});

test('one key runs strictly in offset order across batches; concurrency bounds records in flight', async () => {
  const order: string[] = [];
  let inFlight = 0;
  let peak = 0;
  const h = harness({
    concurrency: 3,
    handle: async (r) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((res) => setTimeout(res, 2 + (Number(r.offset) % 3)));
      order.push(`${r.key}:${r.offset}`);
      inFlight--;
    },
  });
  const { ctx } = context();
  await h.pipeline.dispatch({ topic: 't', partition: 0, records: [rec(0, 'a'), rec(1, 'b'), rec(2, 'a'), rec(3, 'c')] }, ctx);
  await h.pipeline.dispatch({ topic: 't', partition: 0, records: [rec(4, 'a'), rec(5, 'd'), rec(6, 'b'), rec(7, null), rec(8, null)] }, ctx);
  await settled(h.pipeline);
  await h.pipeline.stop();
  assert.ok(peak <= 3, `at most 3 in flight (saw ${peak})`);
  for (const key of ['a', 'b', 'null']) {
    const offsets = order.filter((o) => o.startsWith(`${key}:`)).map((o) => Number(o.split(':')[1]));
    assert.deepEqual(offsets, [...offsets].sort((x, y) => x - y), `key ${key} in offset order`);
  }
  assert.equal(order.length, 9);
  assert.equal(h.committed().at(-1), 't/0@9');
});

test('a failing record runs again, holds its partition commit back meanwhile, and keeps its key order', async () => {
  let failuresLeft = 2;
  const ran: string[] = [];
  const early: string[] = [];
  const h = harness({
    concurrency: 4,
    onCommit: (offsets) => { for (const o of offsets) if (Number(o.offset) > 1 && !ran.includes('1')) early.push(o.offset); },
    handle: async (r) => {
      if (r.offset === '1' && failuresLeft-- > 0) throw new Error('PostgreSQL down');
      ran.push(r.offset);
    },
  });
  const { ctx } = context();
  await h.pipeline.dispatch({ topic: 't', partition: 3, records: [rec(0, 'a'), rec(1, 'b'), rec(2, 'b'), rec(3, 'c')] }, ctx);
  await settled(h.pipeline);
  await h.pipeline.stop();
  assert.ok(ran.indexOf('1') < ran.indexOf('2'), 'offset 2 (same key) waited for 1 to succeed');
  assert.deepEqual(early, [], 'no commit passed offset 1 before it succeeded');
  assert.equal(failuresLeft, -1, 'offset 1 failed twice, then ran');
  assert.equal(h.committed().at(-1), 't/3@4');
});

test('stop: running records finish and are committed; records not started stay uncommitted', async () => {
  const first = gate();
  const ran: string[] = [];
  const h = harness({ concurrency: 8, handle: async (r) => { if (r.offset === '10') await first.promise; ran.push(r.offset); } });
  const { ctx } = context();
  // 11 waits behind 10 (same key) and has not started when stop begins.
  await h.pipeline.dispatch({ topic: 't', partition: 0, records: [rec(10, 'a'), rec(11, 'a')] }, ctx);
  const stopped = h.pipeline.stop();
  first.open();
  await stopped;
  assert.deepEqual(ran, ['10']);
  assert.deepEqual(h.committed(), ['t/0@11'], 'committed up to 10; 11 comes again after a restart');
});

test('after a rebalance (reset) the old partitions commit nothing; redelivered records start afresh', async () => {
  const first = gate();
  const h = harness({ concurrency: 8, handle: async (r) => { if (r.offset === '0') await first.promise; } });
  const { ctx } = context();
  await h.pipeline.dispatch({ topic: 't', partition: 0, records: [rec(0, 'a')] }, ctx);
  h.pipeline.reset();
  first.open();
  await settled(h.pipeline);
  assert.deepEqual(h.committed(), [], 'the record of the old generation finished but committed nothing');
  // The new generation fetches from the committed offset again: 0 comes again and is handled.
  await h.pipeline.dispatch({ topic: 't', partition: 0, records: [rec(0, 'a'), rec(1, 'b')] }, ctx);
  await h.pipeline.stop();
  assert.equal(h.committed().at(-1), 't/0@2');
});

test('a batch waits for a free slot (backpressure) and heartbeats while it waits', async () => {
  const first = gate();
  let heartbeats = 0;
  const h = harness({ concurrency: 1, handle: async (r) => { if (r.offset === '0') await first.promise; } });
  const resolved: string[] = [];
  const dispatched = h.pipeline.dispatch({ topic: 't', partition: 0, records: [rec(0, 'a'), rec(1, 'b')] }, {
    resolveOffset: (o) => { resolved.push(o); }, heartbeat: async () => { heartbeats++; }, shouldContinue: () => true,
  });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(resolved, ['0'], 'record 1 waits for the only slot');
  assert.equal(heartbeats, 1);
  first.open();
  await dispatched;
  assert.deepEqual(resolved, ['0', '1']);
  await h.pipeline.stop();
});
