import { metrics as otel, type BatchObservableResult, type Meter } from '@opentelemetry/api';
import { METER_NAME } from './router-metrics';

/** What one read of the outbox table says (packages/outbox `outboxBacklog`). */
export interface OutboxBacklog {
  /** Rows the relay may publish now. */
  due: number;
  /** Rows waiting for their not_before (scheduled retries, lease-revival rows). */
  scheduled: number;
  /** Age in seconds of the oldest due row (since it became due); 0 when none is due. */
  oldestDueAgeSeconds: number;
}

export interface OutboxGaugesDeps {
  meter?: Meter;
  read: () => Promise<OutboxBacklog>;
  /** A scrape within this long after the last read gets the cached answer (ms). */
  minIntervalMs: number;
  now?: () => number;
  onError?: (err: unknown) => void;
}

/**
 * Outbox depth and oldest-row age as observable gauges. The table is read at most once per
 * `minIntervalMs` however often Prometheus scrapes or the OTLP reader collects (both readers share
 * one read; concurrent collections wait on the same query). A failed read reports nothing for that
 * collection (a gap, not a stale or invented number).
 */
export function observeOutbox(deps: OutboxGaugesDeps): { close(): void } {
  const meter = deps.meter ?? otel.getMeter(METER_NAME);
  const now = deps.now ?? Date.now;
  const rows = meter.createObservableGauge('ca.outbox.rows', {
    description: 'Rows in the outbox table, by state (due: publishable now | scheduled: waiting for not_before)',
    unit: '{row}',
  });
  const age = meter.createObservableGauge('ca.outbox.oldest_due.age', {
    description: 'How long the oldest publishable outbox row has waited (0: none waiting)',
    unit: 's',
  });
  let cached: { at: number; value: OutboxBacklog } | null = null;
  let pending: Promise<OutboxBacklog | null> | null = null;

  function current(): Promise<OutboxBacklog | null> {
    if (cached && now() - cached.at < deps.minIntervalMs) return Promise.resolve(cached.value);
    pending ??= deps.read().then(
      (value) => {
        cached = { at: now(), value };
        return value;
      },
      (err: unknown) => {
        deps.onError?.(err);
        return null;
      },
    ).finally(() => { pending = null; });
    return pending;
  }

  const callback = async (result: BatchObservableResult) => {
    const backlog = await current();
    if (!backlog) return;
    result.observe(rows, backlog.due, { state: 'due' });
    result.observe(rows, backlog.scheduled, { state: 'scheduled' });
    result.observe(age, backlog.oldestDueAgeSeconds);
  };
  meter.addBatchObservableCallback(callback, [rows, age]);
  return { close: () => meter.removeBatchObservableCallback(callback, [rows, age]) };
}
