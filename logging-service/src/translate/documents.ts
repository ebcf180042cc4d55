import { createHash } from 'node:crypto';

/** A document bound for one data stream; `id` makes a retried write idempotent (create → 409). */
export interface StoredDoc {
  id: string;
  /** Data stream name, e.g. traces-apm-default. */
  index: string;
  kind: 'transaction' | 'span' | 'error' | 'log' | 'metric';
  doc: Record<string, unknown>;
  /** What the APM aggregator (src/aggregate) needs beyond the document; never stored. */
  aggregation?: AggregationFacts;
}

/**
 * apm-aggregation keys metrics by the resource-level ("global") labels only, and sums span
 * durations in nanoseconds before converting to µs; the document has neither.
 */
export interface AggregationFacts {
  globalLabels: Record<string, string | string[]>;
  globalNumericLabels: Record<string, number | number[]>;
  /** Span/transaction duration in ns. */
  durationNs?: number;
}

export const NAMESPACE = 'default';

/**
 * Data streams, named as APM Server names them (Elastic "APM data streams" page, 8.x):
 * traces-apm-<namespace>, logs-apm.error-<namespace>, logs-apm.app.<service.name>-<namespace>.
 */
export const DATA_STREAMS = {
  traces: `traces-apm-${NAMESPACE}`,
  errors: `logs-apm.error-${NAMESPACE}`,
  appLogs: (service: string) => `logs-apm.app.${datasetServiceName(service)}-${NAMESPACE}`,
} as const;

/** Data stream names are lowercase and may not contain \ / * ? " < > | , # : space or '-' inside a dataset. */
export function datasetServiceName(service: string): string {
  return service.toLowerCase().replace(/[\\/*?"<>|,#: -]/g, '_');
}

export function dataStreamField(index: string): { type: string; dataset: string; namespace: string } {
  const first = index.indexOf('-');
  const last = index.lastIndexOf('-');
  return { type: index.slice(0, first), dataset: index.slice(first + 1, last), namespace: index.slice(last + 1) };
}

/** Deterministic 32-hex id from the parts that identify a record in its export request. */
export function stableId(...parts: Array<string | number | bigint | null>): string {
  return createHash('sha256').update(parts.map((p) => String(p ?? '')).join('\u0000')).digest('hex').slice(0, 32);
}

export function nsToMicros(ns: bigint): number {
  return Number(ns / 1000n);
}

export function nsToIso(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}
