export interface BatchItem {
  offset: string;
  /** Records with the same key run strictly one after another, in offset order; null keys share one chain. */
  key: string | null;
}

export interface KeyOrderedBatchOptions<T extends BatchItem> {
  /** Most records of this batch in flight at once (each on a different key). */
  concurrency: number;
  handle(item: T): Promise<void>;
  /** Marks everything up to and including this offset as done (the next commit may include it). */
  resolveOffset(offset: string): void;
  /** False once the consumer is stopping or the partition was reassigned: start nothing new. */
  shouldContinue(): boolean;
  heartbeat(): Promise<void>;
}

/**
 * Runs one partition's batch with per-key order and cross-key concurrency (the pattern of
 * Confluent's parallel consumer): records with different keys run concurrently, up to
 * `concurrency`; records with the same key run one after another in offset order. The committed
 * position only ever moves to the oldest unfinished record, so a crash redelivers every record
 * that had not finished (and maybe some that had: the worker is idempotent).
 *
 * If a handler throws, nothing new starts; records in flight finish; the offset moves over the
 * finished prefix; then the error is rethrown so kafkajs retries from the first unfinished record.
 */
export async function runKeyOrderedBatch<T extends BatchItem>(items: readonly T[], opts: KeyOrderedBatchOptions<T>): Promise<void> {
  const chains = new Map<string, number[]>();
  items.forEach((item, i) => {
    const key = item.key ?? '\u0000null';
    const chain = chains.get(key);
    if (chain) chain.push(i);
    else chains.set(key, [i]);
  });
  const waiting = [...chains.values()];
  const done = new Array<boolean>(items.length).fill(false);
  let watermark = 0; // items[0 .. watermark-1] are all done
  let failure: { error: unknown } | null = null;

  const advance = () => {
    const before = watermark;
    while (watermark < items.length && done[watermark]) watermark++;
    if (watermark > before) opts.resolveOffset(items[watermark - 1]!.offset);
  };

  async function runChain(chain: number[]): Promise<void> {
    for (const i of chain) {
      if (failure || !opts.shouldContinue()) return;
      try {
        await opts.handle(items[i]!);
      } catch (error) {
        failure ??= { error };
        return;
      }
      done[i] = true;
      advance();
      await opts.heartbeat().catch(() => undefined); // a failed heartbeat surfaces in the next fetch
    }
  }

  // A pool of lanes: each lane takes the next waiting chain when its current one ends.
  const lanes = Array.from({ length: Math.min(opts.concurrency, waiting.length) }, async () => {
    for (let chain = waiting.shift(); chain; chain = waiting.shift()) {
      await runChain(chain);
      if (failure || !opts.shouldContinue()) return;
    }
  });
  await Promise.all(lanes);
  const failed = failure as { error: unknown } | null; // assigned inside the lanes
  if (failed) throw failed.error;
}
