import type { Meter } from '@opentelemetry/api';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';

/**
 * What a service's build function gets from main.ts to turn metrics on: the /metrics reader, who
 * may scrape it, and the cardinality / polling bounds. A service built without it (most tests)
 * serves no /metrics and records through the global meter (a no-op without the SDK).
 */
export interface MetricsSetup {
  prometheus: PrometheusExporter | null;
  /** METRICS_TOKEN (null: loopback scrapers only). */
  token: string | null;
  tenantLabelLimit: number;
  /** Outbox read / consumer-lag interval (ms). */
  pollMs: number;
  /** Default: the global meter. Tests pass a MeterProvider's meter. */
  meter?: Meter;
}
