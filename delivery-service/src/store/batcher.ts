export interface Batcher<I, O> {
  /**
   * Queues one item; resolves with its own result when the batch it joined has run. An urgent item
   * (a HIGH priority message) goes ahead of every waiting non-urgent one, so it joins the next batch
   * even behind a LOW backlog in flight.
   */
  add(item: I, opts?: { urgent?: boolean }): Promise<O>;
}

/**
 * Group commit for concurrent callers: items that arrive while a batch is running (or in the same
 * tick) run together in the next one, so N records in flight cost one statement or transaction,
 * not N. One batch runs at a time per batcher. `run` returns one result per item, in order; if it
 * throws, every item of that batch rejects with the error.
 */
export function createBatcher<I, O>(run: (items: I[]) => Promise<O[]>, maxBatch: number): Batcher<I, O> {
  let queue: Array<{ item: I; urgent: boolean; resolve: (o: O) => void; reject: (e: unknown) => void }> = [];
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
    add(item, opts) {
      return new Promise<O>((resolve, reject) => {
        const entry = { item, urgent: opts?.urgent === true, resolve, reject };
        if (!entry.urgent) queue.push(entry);
        else {
          const firstCalm = queue.findIndex((q) => !q.urgent);
          queue.splice(firstCalm === -1 ? queue.length : firstCalm, 0, entry);
        }
        schedule();
      });
    },
  };
}
