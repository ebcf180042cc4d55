/**
 * LOW yields to HIGH inside one delivery-service process. The lanes already have their own topics,
 * consumer groups and in-flight budgets, but on a small box they share the CPU, the PostgreSQL pool
 * and the provider's intake: a draining LOW backlog keeps all three busy, and a HIGH record then
 * waits in every queue. With the gate, a LOW record starts only once no HIGH record is running
 * and none has finished within the last `quietMs`; it never waits longer than `maxHoldMs` at a
 * time, so LOW always progresses (no starvation, and the consumer keeps heartbeating).
 * `quietMs` 0 turns the gate off.
 */
export interface LaneGate {
  /** Runs a HIGH record's work; LOW records hold back while it runs and for `quietMs` after. */
  high<T>(work: () => Promise<T>): Promise<T>;
  /** Resolves when a LOW record may start. */
  lowMayStart(): Promise<void>;
}

export function createLaneGate(opts: { quietMs: number; maxHoldMs: number; now?: () => number }): LaneGate {
  const now = opts.now ?? Date.now;
  let running = 0;
  let lastHighEnd = Number.NEGATIVE_INFINITY;
  let waiters: Array<() => void> = [];
  let timer: NodeJS.Timeout | null = null;

  const quietFor = () => (running > 0 ? 0 : now() - lastHighEnd);
  const release = () => {
    timer = null;
    if (waiters.length === 0) return;
    const left = opts.quietMs - quietFor();
    if (running === 0 && left <= 0) {
      const ready = waiters;
      waiters = [];
      for (const resolve of ready) resolve();
    } else if (running === 0) {
      timer = setTimeout(release, left);
    }
    // While HIGH runs, the end of its last record calls release again.
  };

  return {
    async high(work) {
      running++;
      try {
        return await work();
      } finally {
        running--;
        lastHighEnd = now();
        if (running === 0 && waiters.length > 0 && !timer) timer = setTimeout(release, opts.quietMs);
      }
    },
    lowMayStart() {
      if (opts.quietMs <= 0 || quietFor() >= opts.quietMs) return Promise.resolve();
      return new Promise<void>((resolve) => {
        let done = false;
        const go = () => {
          if (done) return;
          done = true;
          clearTimeout(hold);
          resolve();
        };
        // At most maxHoldMs: then this record starts even if HIGH is still busy.
        const hold = setTimeout(() => {
          waiters = waiters.filter((w) => w !== go);
          go();
        }, opts.maxHoldMs);
        waiters.push(go);
        if (running === 0 && !timer) timer = setTimeout(release, Math.max(0, opts.quietMs - quietFor()));
      });
    },
  };
}
