import Joi from 'joi';
import { DEFAULT_TENANT_LABEL_LIMIT } from './tenant-label';

// Loaded by each service's config.ts, before the OpenTelemetry SDK starts: joi only, nothing instrumented.

/** Where metrics go (OTEL_METRICS_EXPORTER, comma-separated; `none` turns metrics off). */
export const METRICS_EXPORTERS = ['prometheus', 'otlp', 'none'] as const;
export type MetricsExporterName = (typeof METRICS_EXPORTERS)[number];
const METRICS_EXPORTERS_PATTERN = /^\s*(prometheus|otlp|none)(\s*,\s*(prometheus|otlp|none))*\s*$/;

/** Parses OTEL_METRICS_EXPORTER ("prometheus,otlp"), already validated by METRICS_ENV. */
export function parseMetricsExporters(raw: string): MetricsExporterName[] {
  return raw.split(',').map((s) => s.trim()).filter((s): s is MetricsExporterName => (METRICS_EXPORTERS as readonly string[]).includes(s));
}

/** The metrics settings every service reads (README "Configuration"); each config.ts spreads METRICS_ENV into its schema. */
export interface MetricsEnv {
  OTEL_METRICS_EXPORTER: string;
  OTEL_METRIC_EXPORT_INTERVAL: number;
  METRICS_TOKEN?: string;
  METRICS_TENANT_LABEL_LIMIT: number;
  METRICS_POLL_MS: number;
}

export const METRICS_ENV = {
  // Comma-separated: prometheus (GET /metrics), otlp (push to OTEL_EXPORTER_OTLP_ENDPOINT/v1/metrics), none.
  OTEL_METRICS_EXPORTER: Joi.string().pattern(METRICS_EXPORTERS_PATTERN).default('prometheus'),
  OTEL_METRIC_EXPORT_INTERVAL: Joi.number().integer().min(1000).default(60_000),
  // A secret: no default. Set: /metrics needs `Authorization: Bearer <METRICS_TOKEN>`; unset: loopback only.
  METRICS_TOKEN: Joi.string().min(16).empty(''),
  METRICS_TENANT_LABEL_LIMIT: Joi.number().integer().min(0).max(1000).default(DEFAULT_TENANT_LABEL_LIMIT),
  // Outbox gauges read the table at most this often; consumer lag is read on this interval.
  METRICS_POLL_MS: Joi.number().integer().min(100).default(10_000),
} as const;

export interface MetricsConfig {
  exporters: MetricsExporterName[];
  exportIntervalMs: number;
  token: string | null;
  tenantLabelLimit: number;
  pollMs: number;
}

export function metricsConfig(env: MetricsEnv): MetricsConfig {
  return {
    exporters: parseMetricsExporters(env.OTEL_METRICS_EXPORTER),
    exportIntervalMs: env.OTEL_METRIC_EXPORT_INTERVAL,
    token: env.METRICS_TOKEN ?? null,
    tenantLabelLimit: env.METRICS_TENANT_LABEL_LIMIT,
    pollMs: env.METRICS_POLL_MS,
  };
}
