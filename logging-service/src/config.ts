import Joi from 'joi';
import { METRICS_ENV, metricsConfig, type MetricsConfig, type MetricsEnv } from '@ca/metrics/config';
import type { HttpTimeouts } from '@ca/http';
// The settings module only (joi): config loads before telemetry patches express, pg and winston.
import { parseFaults, type FaultSet } from '@ca/faults/settings';

export interface Config {
  port: number;
  /** Interface to listen on; the HTML trace view is open without a key only on loopback. */
  host: string;
  serviceToken: string | null;
  /** router-service, asked whether a merchant's key is valid (POST /internal/v1/keys/introspect). */
  routerUrl: string;
  apiKeyCacheMs: number;
  http: HttpTimeouts;
  databaseUrl: string;
  databaseSchema: string;
  elasticsearch: {
    url: string | null;
    username: string | null;
    password: string | null;
    apiKey: string | null;
    requestTimeoutMs: number;
    bulk: { flushBytes: number; concurrency: number; retries: number; waitMs: number; maxAttempts: number };
  };
  ingest: { maxBodyBytes: number; maxRecords: number; bodyTimeoutMs: number; maxInFlight: number; maxInFlightBytes: number; retryAfterSeconds: number };
  logLevel: string;
  otlpEndpoint: string;
  environment: string;
  serviceVersion: string;
  shutdownTimeoutMs: number;
  /** Faults injected from the start (FAULTS; README "Failure scenarios"). */
  faults: FaultSet;
  /** Bearer token of /admin/faults; null: the endpoint does not exist. */
  adminToken: string | null;
  metrics: MetricsConfig;
}

const MiB = 1024 * 1024;

/** process.env after validation and defaults (what the schema below produces). */
interface Env extends MetricsEnv {
  PORT: number; HTTP_HEADERS_TIMEOUT_MS: number; HTTP_REQUEST_TIMEOUT_MS: number; HTTP_KEEP_ALIVE_TIMEOUT_MS: number; DATABASE_URL: string; DATABASE_SCHEMA: string;
  ELASTICSEARCH_URL?: string; ELASTICSEARCH_USERNAME?: string; ELASTICSEARCH_PASSWORD?: string; ELASTICSEARCH_API_KEY?: string;
  ES_REQUEST_TIMEOUT_MS: number; ES_BULK_FLUSH_BYTES: number; ES_BULK_CONCURRENCY: number; ES_BULK_RETRIES: number;
  ES_BULK_RETRY_WAIT_MS: number; ES_BULK_MAX_ATTEMPTS: number;
  INGEST_MAX_BODY_BYTES: number; INGEST_MAX_RECORDS: number; INGEST_BODY_TIMEOUT_MS: number; INGEST_MAX_IN_FLIGHT: number; INGEST_MAX_IN_FLIGHT_BYTES: number; INGEST_RETRY_AFTER_SECONDS: number;
  HOST: string; SERVICE_TOKEN?: string; ROUTER_URL: string; API_KEY_CACHE_MS: number;
  LOG_LEVEL: string; OTEL_EXPORTER_OTLP_ENDPOINT: string; DEPLOYMENT_ENVIRONMENT: string; SERVICE_VERSION: string; SHUTDOWN_TIMEOUT_MS: number;
  FAULTS: string; ADMIN_TOKEN?: string;
}

const schema = Joi.object<Env>({
  PORT: Joi.number().port().default(4000),
  HOST: Joi.string().default('0.0.0.0'),
  SERVICE_TOKEN: Joi.string().min(16).empty(''),
  ROUTER_URL: Joi.string().uri({ scheme: ['http', 'https'] }).default('http://127.0.0.1:3000'),
  API_KEY_CACHE_MS: Joi.number().integer().min(0).max(1000).default(500),
  // A 16 MiB export needs time on a slow link; a slow upload still ends in seconds, not minutes.
  HTTP_HEADERS_TIMEOUT_MS: Joi.number().integer().min(100).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: Joi.number().integer().min(Joi.ref('HTTP_HEADERS_TIMEOUT_MS')).default(30_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: Joi.number().integer().min(100).default(5_000),
  DATABASE_URL: Joi.string().uri({ scheme: ['postgres', 'postgresql'] }).default('postgres://postgres@127.0.0.1:5432/comm_aggregator'),
  DATABASE_SCHEMA: Joi.string().pattern(/^[a-z_][a-z0-9_]*$/).default('logging'),
  ELASTICSEARCH_URL: Joi.string().uri({ scheme: ['http', 'https'] }).empty(''),
  ELASTICSEARCH_USERNAME: Joi.string().empty(''),
  ELASTICSEARCH_PASSWORD: Joi.string().empty(''),
  ELASTICSEARCH_API_KEY: Joi.string().empty(''),
  ES_REQUEST_TIMEOUT_MS: Joi.number().integer().min(100).default(10_000),
  ES_BULK_FLUSH_BYTES: Joi.number().integer().min(1024).default(5 * MiB),
  ES_BULK_CONCURRENCY: Joi.number().integer().min(1).max(32).default(2),
  ES_BULK_RETRIES: Joi.number().integer().min(0).max(20).default(3),
  ES_BULK_RETRY_WAIT_MS: Joi.number().integer().min(0).default(500),
  ES_BULK_MAX_ATTEMPTS: Joi.number().integer().min(1).max(20).default(3),
  INGEST_MAX_BODY_BYTES: Joi.number().integer().min(1024).default(16 * MiB),
  INGEST_MAX_RECORDS: Joi.number().integer().min(1).default(32_768),
  INGEST_BODY_TIMEOUT_MS: Joi.number().integer().min(100).default(10_000),
  INGEST_MAX_IN_FLIGHT: Joi.number().integer().min(1).default(16),
  INGEST_MAX_IN_FLIGHT_BYTES: Joi.number().integer().min(1024).default(32 * MiB),
  INGEST_RETRY_AFTER_SECONDS: Joi.number().integer().min(1).max(3600).default(5),
  LOG_LEVEL: Joi.string().valid('error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly').default('info'),
  OTEL_EXPORTER_OTLP_ENDPOINT: Joi.string().uri({ scheme: ['http', 'https'] }).allow('').default(''),
  DEPLOYMENT_ENVIRONMENT: Joi.string().default('local'),
  SERVICE_VERSION: Joi.string().default('0.1.0'),
  SHUTDOWN_TIMEOUT_MS: Joi.number().integer().min(0).default(10_000),
  FAULTS: Joi.string().allow('').default(''),
  ADMIN_TOKEN: Joi.string().min(16).empty(''),
  ...METRICS_ENV,
})
  .unknown(true)
  .and('ELASTICSEARCH_USERNAME', 'ELASTICSEARCH_PASSWORD');

/** Parses the environment once; throws listing every invalid variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Readonly<Config> {
  const { value, error } = schema.validate(env, { abortEarly: false, convert: true });
  if (error) throw new Error(`Invalid configuration: ${error.details.map((d) => d.message).join('; ')}`);
  const v = value as Env;
  return Object.freeze({
    port: v.PORT,
    host: v.HOST,
    serviceToken: v.SERVICE_TOKEN ?? null,
    routerUrl: v.ROUTER_URL.replace(/\/+$/, ''),
    apiKeyCacheMs: v.API_KEY_CACHE_MS,
    http: { headersTimeoutMs: v.HTTP_HEADERS_TIMEOUT_MS, requestTimeoutMs: v.HTTP_REQUEST_TIMEOUT_MS, keepAliveTimeoutMs: v.HTTP_KEEP_ALIVE_TIMEOUT_MS },
    databaseUrl: v.DATABASE_URL,
    databaseSchema: v.DATABASE_SCHEMA,
    elasticsearch: {
      url: v.ELASTICSEARCH_URL ?? null,
      username: v.ELASTICSEARCH_USERNAME ?? null,
      password: v.ELASTICSEARCH_PASSWORD ?? null,
      apiKey: v.ELASTICSEARCH_API_KEY ?? null,
      requestTimeoutMs: v.ES_REQUEST_TIMEOUT_MS,
      bulk: { flushBytes: v.ES_BULK_FLUSH_BYTES, concurrency: v.ES_BULK_CONCURRENCY, retries: v.ES_BULK_RETRIES, waitMs: v.ES_BULK_RETRY_WAIT_MS, maxAttempts: v.ES_BULK_MAX_ATTEMPTS },
    },
    ingest: { maxBodyBytes: v.INGEST_MAX_BODY_BYTES, maxRecords: v.INGEST_MAX_RECORDS, bodyTimeoutMs: v.INGEST_BODY_TIMEOUT_MS, maxInFlight: v.INGEST_MAX_IN_FLIGHT, maxInFlightBytes: v.INGEST_MAX_IN_FLIGHT_BYTES, retryAfterSeconds: v.INGEST_RETRY_AFTER_SECONDS },
    logLevel: v.LOG_LEVEL,
    otlpEndpoint: v.OTEL_EXPORTER_OTLP_ENDPOINT,
    environment: v.DEPLOYMENT_ENVIRONMENT,
    serviceVersion: v.SERVICE_VERSION,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    faults: parseFaults(v.FAULTS),
    adminToken: v.ADMIN_TOKEN ?? null,
    metrics: metricsConfig(v),
  });
}
