export interface Batcher<I, O> {
  /** Queues one item; resolves with its own result when the batch it joined has run. */
  add(item: I): Promise<O>;
}

/**
 * Group commit for concurrent callers: items that arrive while a batch is running (or in the same
 * tick) run together in the next one, so N records in flight cost one statement or transaction,
 * not N. One batch runs at a time per batcher. `run` returns one result per item, in order; if it
 * throws, every item of that batch rejects with the error.
 */
export function createBatcher<I, O>(run: (items: I[]) => Promise<O[]>, maxBatch: number): Batcher<I, O> {
  let queue: Array<{ item: I; resolve: (o: O) => void; reject: (e: unknown) => void }> = [];
  let running = false;
  let scheduled = false;

  function schedule(): void {
    if (running || scheduled || queue.length === 0) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void flush();
    });
  }

  async function flush(): Promise<void> {
    if (running || queue.length === 0) return;
    running = true;
    const batch = queue.slice(0, maxBatch);
    queue = queue.slice(batch.length);
    try {
      const results = await run(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(results[i] as O));
    } catch (err) {
      for (const b of batch) b.reject(err);
    } finally {
      running = false;
      schedule();
    }
  }

  return {
    add(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        schedule();
      });
    },
  };
}
