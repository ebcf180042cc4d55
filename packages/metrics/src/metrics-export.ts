import type { MetricReader } from '@opentelemetry/sdk-metrics';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import type { MetricsExporterName } from './metrics-config';

export interface MetricsExportOptions {
  exporters: readonly MetricsExporterName[];
  /** Base OTLP/HTTP URL the traces use (…/v1/metrics is appended). Empty: no OTLP export even if asked. */
  otlpEndpoint: string;
  /** How often the OTLP reader pushes (ms, OTEL_METRIC_EXPORT_INTERVAL). */
  exportIntervalMs: number;
}

export interface MetricsExport {
  /** Handed to startTelemetry; empty means no MeterProvider at all (every instrument is a no-op). */
  readers: MetricReader[];
  /** The pull reader behind GET /metrics; null when Prometheus export is off. */
  prometheus: PrometheusExporter | null;
}

/**
 * The metric readers of one process. Prometheus is a pull reader whose own HTTP server is never
 * started: each service serves its handler on its existing express app (metrics-route.ts), so
 * there is no second port to secure. OTLP pushes to the same endpoint as the traces (the collector
 * in compose), cumulative temporality, every `exportIntervalMs`.
 */
export function createMetricsExport(opts: MetricsExportOptions): MetricsExport {
  const wanted = new Set(opts.exporters);
  const readers: MetricReader[] = [];
  let prometheus: PrometheusExporter | null = null;
  if (wanted.has('none')) return { readers, prometheus };
  if (wanted.has('prometheus')) {
    // Scope and target info are dropped: the scope is always ours, and target_info would repeat
    // the resource on every scrape while the service label already comes from the scrape config.
    prometheus = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
    readers.push(prometheus);
  }
  if (wanted.has('otlp') && opts.otlpEndpoint) {
    readers.push(new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ url: `${opts.otlpEndpoint.replace(/\/+$/, '')}/v1/metrics` }),
      exportIntervalMillis: opts.exportIntervalMs,
      exportTimeoutMillis: Math.min(30_000, opts.exportIntervalMs),
    }));
  }
  return { readers, prometheus };
}
