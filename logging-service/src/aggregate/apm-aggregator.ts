import { randomUUID } from 'node:crypto';
import type { Logger } from '@ca/telemetry';
import type { StoredDoc } from '../translate/documents';
import { serviceDocuments } from './metric-documents';
import { INTERVAL_MS, MetricGroups } from './metric-groups';

export interface Clock {
  now(): Date;
}

export interface ApmAggregatorOptions {
  /** Where metric documents go: the store's write (Elasticsearch bulk or PostgreSQL). */
  write(docs: readonly StoredDoc[]): Promise<unknown>;
  clock: Clock;
  logger: Logger;
  /** Service groups per interval; events of further services are not aggregated (logged). */
  maxServices?: number;
  /** Metric documents kept for another attempt while the store refuses them. */
  maxUnsentDocs?: number;
  /** Distinguishes this process's flushes in document ids (default: a random UUID). */
  instanceId?: string;
  /** How long close() waits for the last write before giving up on it (ms). */
  closeTimeoutMs?: number;
}

export interface ApmAggregator {
  /** Adds the documents of a stored export to the open interval. */
  observe(docs: readonly StoredDoc[]): void;
  /** Writes every interval that has closed by clock.now() (and retries unsent documents). */
  harvest(): Promise<void>;
  /** Arms a timer that harvests just after each interval boundary. */
  start(): void;
  /** Stops the timer and writes everything, the open interval included. */
  close(): Promise<void>;
}

interface Window {
  index: number;
  groups: MetricGroups;
}

/**
 * APM Server's 1-minute aggregation (elastic/apm-aggregation) in process: events are grouped by the
 * interval they are *processed* in (as apm-aggregation's processing-time partitions), the metric
 * documents carry the interval of the event's own timestamp, and an interval is written once the
 * clock has passed its end, or at shutdown. A failed write is retried at the next harvest.
 */
export function createApmAggregator(opts: ApmAggregatorOptions): ApmAggregator {
  const { clock, logger } = opts;
  const maxServices = opts.maxServices ?? 1000;
  const maxUnsent = opts.maxUnsentDocs ?? 50_000;
  const instanceId = opts.instanceId ?? randomUUID();
  const windowOf = (ms: number) => Math.floor(ms / INTERVAL_MS);
  let open: Window = { index: windowOf(clock.now().getTime()), groups: new MetricGroups() };
  const closed: Window[] = [];
  let unsent: StoredDoc[] = [];
  let overLimit = 0;
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<void> = Promise.resolve();

  const rotate = (all: boolean) => {
    const now = windowOf(clock.now().getTime());
    if (all || now !== open.index) {
      if (open.groups.size > 0) closed.push(open);
      open = { index: now, groups: new MetricGroups() };
    }
  };

  const flush = async (all: boolean) => {
    rotate(all);
    const receivedMs = clock.now().getTime();
    for (const w of closed.splice(0)) {
      for (const service of w.groups.services.values()) unsent.push(...serviceDocuments(service, receivedMs, `${instanceId}/${w.index}`));
    }
    if (overLimit > 0) {
      logger.warn('APM metrics: service limit reached; events not aggregated', { maxServices, events: overLimit });
      overLimit = 0;
    }
    if (unsent.length === 0) return;
    const batch = unsent;
    try {
      await opts.write(batch);
      unsent = [];
    } catch (err) {
      if (unsent.length > maxUnsent) {
        logger.error('APM metrics: dropping unsent metric documents', { dropped: unsent.length - maxUnsent });
        unsent = unsent.slice(unsent.length - maxUnsent);
      }
      logger.warn('APM metrics: write failed; retrying at the next harvest', { documents: batch.length, error: (err as Error).message });
    }
  };

  const serialized = (all: boolean) => (chain = chain.then(() => flush(all)));

  const arm = () => {
    const ms = clock.now().getTime();
    timer = setTimeout(() => {
      void serialized(false).finally(() => {
        if (timer) arm();
      });
    }, INTERVAL_MS - (ms % INTERVAL_MS) + 50);
    timer.unref();
  };

  return {
    observe(docs) {
      rotate(false);
      for (const d of docs) if (!open.groups.add(d, maxServices)) overLimit += 1;
    },
    harvest: () => serialized(false),
    start() {
      if (!timer) arm();
    },
    async close() {
      if (timer) clearTimeout(timer);
      timer = null;
      // Shutdown has a deadline: a store that no longer answers must not hold it.
      let deadline: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => { deadline = setTimeout(() => resolve(true), opts.closeTimeoutMs ?? 2000); });
      const late = await Promise.race([serialized(true).then(() => false), timedOut]);
      clearTimeout(deadline);
      if (late) logger.warn('APM metrics: last write still pending at shutdown; abandoned', { documents: unsent.length });
    },
  };
}
