import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@ca/telemetry';

/** One record handed over by a batch: where it came from, its key, and what to run. */
export interface PipelinedRecord {
  offset: string;
  /** Records with the same key run strictly one after another, in offset order; null keys share one chain. */
  key: string | null;
}

export interface CommitOffset {
  topic: string;
  partition: number;
  /** The next offset to read: one past the last finished record. */
  offset: string;
}

export interface RecordPipelineOptions<T extends PipelinedRecord> {
  /** Most records in flight at once, across every partition of the consumer. */
  concurrency: number;
  handle(record: T, where: { topic: string; partition: number }): Promise<void>;
  /** Commits offsets to the group (kafkajs `consumer.commitOffsets`). Failures are retried by the next commit. */
  commit(offsets: CommitOffset[]): Promise<void>;
  /** Delay before a failed record runs again (PostgreSQL down, say): by consecutive failures. */
  retryDelayMs(failures: number): number;
  logger: Logger;
}

/** After a failed commit, the next try (unless another record finishes first). */
const COMMIT_RETRY_MS = 1_000;

export interface DispatchContext {
  /** Moves kafkajs's fetch position past the record (with autoCommit off it is not a commit). */
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the partition was reassigned. */
  shouldContinue(): boolean;
}

interface PartitionState {
  topic: string;
  partition: number;
  /** Dispatched, unfinished or finished-but-not-yet-contiguous records, in offset order. */
  pending: Array<{ offset: bigint; done: boolean }>;
  /** Next offset to commit (one past the contiguous finished prefix), once it moved. */
  next: bigint | null;
  committed: bigint | null;
}

/**
 * Decouples a consumer's fetching from its records' work. kafkajs fetches again only once every
 * batch of the previous fetch is processed (consumer/fetcher.js), so with batch-scoped work a
 * record that lands while an earlier record's provider call runs waits for that call and then for
 * the next fetch. Here `dispatch` only hands a batch's records to the pipeline and returns as soon
 * as each has a slot; the consumer fetches again at once while they run.
 *
 * Order and safety are what the batch runner gave: records with the same key run one after
 * another in offset order (across batches too), different keys run concurrently up to
 * `concurrency`; a partition's committed offset only ever moves to its oldest unfinished record, so
 * a crash redelivers every record that had not finished (at-least-once; the worker makes the
 * effect exactly-once). The consumer runs with autoCommit off: `resolveOffset` only moves the
 * fetch position, and this pipeline commits the finished prefix itself, one commit in flight at a
 * time, coalescing whatever finished meanwhile.
 *
 * A handler that throws (PostgreSQL down) runs again after `retryDelayMs`, keeping its key's order
 * and holding its partition's commit back, until it succeeds or the pipeline stops. After a
 * rebalance (`reset`) the old partitions' records finish but commit nothing: the group redelivers
 * them to whoever owns the partition now, and the worker's fence keeps the effect single.
 */
export function createRecordPipeline<T extends PipelinedRecord>(opts: RecordPipelineOptions<T>) {
  let partitions = new Map<string, PartitionState>();
  const keyTails = new Map<string, Promise<void>>();
  const inFlight = new Set<Promise<void>>();
  let slotWaiters: Array<() => void> = [];
  let stopping = false;
  const stopSignal = new AbortController();
  let committing: Promise<void> | null = null;
  let commitAgain = false;

  const stateFor = (topic: string, partition: number): PartitionState => {
    const id = `${topic}|${partition}`;
    let state = partitions.get(id);
    if (!state) {
      state = { topic, partition, pending: [], next: null, committed: null };
      partitions.set(id, state);
    }
    return state;
  };

  const freeSlot = () => {
    const waiter = slotWaiters.shift();
    waiter?.();
  };
  const waitForSlot = (): Promise<void> =>
    inFlight.size < opts.concurrency || stopping ? Promise.resolve() : new Promise((resolve) => slotWaiters.push(resolve));

  function flushCommits(): void {
    if (committing) {
      commitAgain = true;
      return;
    }
    const offsets: CommitOffset[] = [];
    for (const state of partitions.values()) {
      if (state.next !== null && state.next !== state.committed) offsets.push({ topic: state.topic, partition: state.partition, offset: state.next.toString() });
    }
    if (offsets.length === 0) return;
    const current = partitions;
    committing = opts.commit(offsets)
      .then(() => {
        for (const o of offsets) {
          const state = current.get(`${o.topic}|${o.partition}`);
          if (state) state.committed = BigInt(o.offset);
        }
      })
      .catch((error: unknown) => {
        opts.logger.warn('offset commit failed; retrying', { error: (error as Error).message, offsets });
        if (!stopping) setTimeout(flushCommits, COMMIT_RETRY_MS).unref();
      })
      .finally(() => {
        committing = null;
        if (commitAgain) {
          commitAgain = false;
          flushCommits();
        }
      });
  }

  /** Resolves once no commit is in flight (a finishing commit may start the next one). */
  async function commitsSettled(): Promise<void> {
    while (committing) await committing;
  }

  function finished(state: PartitionState, entry: { offset: bigint; done: boolean }): void {
    entry.done = true;
    if (partitions.get(`${state.topic}|${state.partition}`) !== state) return; // reassigned since
    let moved = false;
    while (state.pending.length > 0 && state.pending[0]!.done) {
      state.next = state.pending.shift()!.offset + 1n;
      moved = true;
    }
    if (moved) flushCommits();
  }

  async function runRecord(record: T, state: PartitionState, entry: { offset: bigint; done: boolean }): Promise<void> {
    const where = { topic: state.topic, partition: state.partition };
    for (let failures = 0; ; ) {
      if (stopping) return; // not done: the record stays uncommitted and comes again
      try {
        await opts.handle(record, where);
        finished(state, entry);
        return;
      } catch (error) {
        failures++;
        const delayMs = opts.retryDelayMs(failures);
        opts.logger.warn('record failed; it runs again', { ...where, offset: record.offset, failures, delayMs, error: (error as Error).message });
        try {
          await sleep(delayMs, undefined, { signal: stopSignal.signal });
        } catch {
          return; // stopping
        }
      }
    }
  }

  return {
    /**
     * Hands one partition's batch over, in offset order; resolves once every record has a slot
     * (or the consumer is stopping), not once they finished.
     */
    async dispatch(batch: { topic: string; partition: number; records: readonly T[] }, ctx: DispatchContext): Promise<void> {
      const state = stateFor(batch.topic, batch.partition);
      for (const record of batch.records) {
        if (inFlight.size >= opts.concurrency) {
          await ctx.heartbeat().catch(() => undefined); // a failed heartbeat surfaces in the next fetch
          await waitForSlot();
        }
        if (stopping || !ctx.shouldContinue()) return;
        const offset = BigInt(record.offset);
        const last = state.pending.at(-1)?.offset ?? (state.next === null ? null : state.next - 1n);
        if (last !== null && offset <= last) continue; // already in the pipeline (fetched again)
        const entry = { offset, done: false };
        state.pending.push(entry);
        const key = record.key ?? '\u0000null';
        const before = keyTails.get(key) ?? Promise.resolve();
        const task: Promise<void> = before.then(() => runRecord(record, state, entry)).finally(() => {
          inFlight.delete(task);
          if (keyTails.get(key) === task) keyTails.delete(key);
          freeSlot();
        });
        keyTails.set(key, task);
        inFlight.add(task);
        ctx.resolveOffset(record.offset);
      }
    },
    /** A new group generation: forget every partition's position (records in flight finish, commit nothing). */
    reset(): void {
      partitions = new Map();
    },
    /** Records in flight now. */
    size(): number {
      return inFlight.size;
    },
    /**
     * Starts nothing new, lets the running handlers finish, then commits what finished. Records
     * not started stay uncommitted and are redelivered.
     */
    async stop(): Promise<void> {
      stopping = true;
      stopSignal.abort();
      const waiters = slotWaiters;
      slotWaiters = [];
      for (const resolve of waiters) resolve();
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      await commitsSettled();
      flushCommits();
      await commitsSettled();
    },
  };
}
