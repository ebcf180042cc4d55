import type { Consumer } from 'kafkajs';

export interface BackgroundConsumer {
  /** Starts joining in the background; a failed join is retried every `retryMs` until stop(). */
  start(): void;
  /** Stops retrying and leaves the group. */
  stop(): Promise<void>;
}

/**
 * A consumer a service runs beside its main work (router-service's status projection and webhook
 * sender): it joins its group in the background, and a failed join (broker down at start, a
 * rebalance error) is logged and retried after `retryMs` with a fresh consumer, so the service keeps
 * serving meanwhile. `create` makes the consumer; `run` connects, subscribes and runs it.
 */
export function backgroundConsumer(opts: {
  /** For the log line: what could not join. */
  what: string;
  retryMs: number;
  logger: { warn(message: string, meta?: Record<string, unknown>): void };
  create(): Consumer;
  run(consumer: Consumer): Promise<void>;
}): BackgroundConsumer {
  let consumer: Consumer | null = null;
  let stopped = false;
  let retry: NodeJS.Timeout | null = null;

  function attempt(): void {
    retry = null;
    if (stopped) return;
    const c = opts.create();
    consumer = c;
    opts.run(c).catch((err: unknown) => {
      opts.logger.warn(`${opts.what} could not join its group; retrying`, { error: (err as Error).message, retryInMs: opts.retryMs });
      if (consumer === c) consumer = null;
      void c.disconnect().catch(() => undefined);
      if (stopped) return;
      retry = setTimeout(attempt, opts.retryMs);
      retry.unref();
    });
  }

  return {
    start() {
      if (consumer || retry) return;
      stopped = false;
      attempt();
    },
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      retry = null;
      const c = consumer;
      consumer = null;
      await c?.disconnect().catch(() => undefined);
    },
  };
}
