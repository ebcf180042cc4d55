import test from 'node:test';
import assert from 'node:assert/strict';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { waitFor } from '@ca/testing';
import { RetryingExporter, type BatchExporter } from '../src/retrying-exporter';

/** A receiver that is down (connection refused) until `up` is set, or rejects with a status. */
function receiver() {
  const state = { up: false, status: 0, received: [] as number[][], shutdown: false };
  const exporter: BatchExporter<number> = {
    export(items, done: (r: ExportResult) => void) {
      setImmediate(() => {
        if (state.status) return done({ code: ExportResultCode.FAILED, error: Object.assign(new Error(`HTTP ${state.status}`), { code: state.status }) });
        if (!state.up) return done({ code: ExportResultCode.FAILED, error: new Error('connect ECONNREFUSED') });
        state.received.push(items);
        done({ code: ExportResultCode.SUCCESS });
      });
    },
    shutdown: async () => { state.shutdown = true; },
  };
  return { state, exporter };
}

const exportNow = (e: RetryingExporter<number>, items: number[]) => new Promise<ExportResult>((resolve) => e.export(items, resolve));

test('batches exported while the receiver is down arrive, in order, once it is back', async () => {
  const { state, exporter } = receiver();
  const retrying = new RetryingExporter(exporter, { maxBufferedItems: 100, initialBackoffMs: 1, maxBackoffMs: 5 });
  for (let i = 0; i < 10; i += 1) assert.equal((await exportNow(retrying, [i * 2, i * 2 + 1])).code, ExportResultCode.SUCCESS);
  assert.deepEqual(retrying.stats(), { buffered: 20, dropped: 0 });
  state.up = true;
  await waitFor('the buffer to drain', async () => retrying.stats().buffered === 0);
  assert.deepEqual(state.received.flat(), Array.from({ length: 20 }, (_, i) => i));
});

test('memory is bounded: a batch that does not fit is dropped and counted, the rest is kept', async () => {
  const { state, exporter } = receiver();
  const retrying = new RetryingExporter(exporter, { maxBufferedItems: 5, initialBackoffMs: 1, maxBackoffMs: 5 });
  assert.equal((await exportNow(retrying, [1, 2, 3])).code, ExportResultCode.SUCCESS);
  assert.equal((await exportNow(retrying, [4, 5, 6])).code, ExportResultCode.FAILED);
  assert.equal((await exportNow(retrying, [7, 8])).code, ExportResultCode.SUCCESS);
  assert.deepEqual(retrying.stats(), { buffered: 5, dropped: 3 });
  state.up = true;
  await waitFor('the buffer to drain', async () => retrying.stats().buffered === 0);
  assert.deepEqual(state.received.flat(), [1, 2, 3, 7, 8]);
});

test('a permanent rejection (400) drops that batch instead of blocking the ones behind it; 429 and 503 are retried', async () => {
  const { state, exporter } = receiver();
  const retrying = new RetryingExporter(exporter, { maxBufferedItems: 100, initialBackoffMs: 1, maxBackoffMs: 5 });
  state.status = 503;
  await exportNow(retrying, [1]);
  await waitFor('a few retries', async () => true, 50);
  assert.equal(retrying.stats().buffered, 1, '503 keeps the batch');
  state.status = 400;
  await waitFor('the rejected batch to be dropped', async () => retrying.stats().buffered === 0);
  state.status = 0;
  state.up = true;
  await exportNow(retrying, [2]);
  await waitFor('the next batch', async () => state.received.length === 1);
  assert.deepEqual(state.received, [[2]]);
});

test('shutdown delivers what it can within its drain time, then shuts the inner exporter down', async () => {
  const { state, exporter } = receiver();
  const retrying = new RetryingExporter(exporter, { maxBufferedItems: 100, initialBackoffMs: 1, maxBackoffMs: 5, shutdownDrainMs: 200 });
  await exportNow(retrying, [1]);
  const started = Date.now();
  await retrying.shutdown();
  assert.ok(Date.now() - started < 2_000, 'shutdown does not wait for ever on a receiver that stays down');
  assert.ok(state.shutdown);
  assert.equal((await exportNow(retrying, [2])).code, ExportResultCode.FAILED, 'nothing is taken after shutdown');
});
