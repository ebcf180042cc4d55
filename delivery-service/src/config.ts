import Joi from 'joi';
import { METRICS_ENV, metricsConfig, type MetricsConfig } from '@ca/metrics/config';
import { CHANNELS, type Channel } from '@ca/contracts';
import type { HttpTimeouts } from '@ca/http';
// The settings module only (joi): config loads before telemetry patches express, pg and winston.
import { parseFaults, type FaultSet } from '@ca/faults/settings';

/** Every setting of delivery-service; README's configuration table lists the same. */
export interface DeliveryConfig {
  port: number;
  http: HttpTimeouts;
  databaseUrl: string;
  databaseSchema: string;
  kafka: { brokers: string[]; clientId: string; topicPrefix: string; sessionTimeoutMs: number; heartbeatIntervalMs: number; partitionsConsumedConcurrently: number; keyConcurrency: number; maxWaitTimeMs: number; lowYieldMs: number; lowMaxHoldMs: number };
  channels: Channel[];
  retry: { maxAttempts: number; baseMs: number; factor: number; maxMs: number };
  leaseMs: number;
  providerTimeoutMs: number;
  outbox: { pollMs: number; batchSize: number };
  simulatedProvider: { latencyMs: number; failureRate: number; seed: number };
  logLevel: string;
  otlpEndpoint: string;
  environment: string;
  serviceVersion: string;
  shutdownTimeoutMs: number;
  /** Shared service credential callers of /internal must present; null leaves it open. */
  serviceToken: string | null;
  /** provider-sim's base URL: the default provider of every channel is reached over HTTP there; null: in-process. */
  simProviderUrl: string | null;
  /** Tenant provider routes: credentials key (AES-256-GCM, base64 of 32 bytes; null: credentials cannot be stored), breakers, health. */
  providers: { credentialsKey: string | null; routeCacheMs: number; slowMs: number; breaker: { errorThresholdPercentage: number; volumeThreshold: number; resetTimeoutMs: number; rollingWindowMs: number } };
  /** Faults injected from the start (FAULTS; README "Failure scenarios"). */
  faults: FaultSet;
  /** Bearer token of /admin/faults; null: the endpoint does not exist. */
  adminToken: string | null;
  /** PUBLIC_URL (providers' receipt callbacks go to <it>/v1/receipts/...; null: none asked) and SIM_RECEIPT_SECRET. */
  receipts: { publicUrl: string | null; simSecret: string | null };
  metrics: MetricsConfig;
}

const schema = Joi.object({
  PORT: Joi.number().port().default(3001),
  HTTP_HEADERS_TIMEOUT_MS: Joi.number().integer().min(100).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: Joi.number().integer().min(Joi.ref('HTTP_HEADERS_TIMEOUT_MS')).default(15_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: Joi.number().integer().min(100).default(5_000),
  DATABASE_URL: Joi.string().uri({ scheme: ['postgres', 'postgresql'] }).default('postgres://postgres@127.0.0.1:5432/comm_aggregator'),
  DATABASE_SCHEMA: Joi.string().pattern(/^[a-z_][a-z0-9_]*$/).default('delivery'),
  KAFKA_BROKERS: Joi.string().required(),
  KAFKA_CLIENT_ID: Joi.string().default('delivery-service'),
  KAFKA_TOPIC_PREFIX: Joi.string().allow('').pattern(/^[A-Za-z0-9._-]*$/).default(''),
  KAFKA_SESSION_TIMEOUT_MS: Joi.number().integer().min(1000).default(30_000),
  KAFKA_HEARTBEAT_INTERVAL_MS: Joi.number().integer().min(100).default(3_000),
  KAFKA_MAX_WAIT_MS: Joi.number().integer().min(10).max(30_000).default(1_000),
  KAFKA_PARTITIONS_CONCURRENCY: Joi.number().integer().min(1).max(64).default(4),
  DELIVERY_KEY_CONCURRENCY: Joi.number().integer().min(1).max(1000).default(32),
  // LOW yields to HIGH (worker/lane-gate.ts): a LOW record starts once no HIGH one has run for this long (0: off) ...
  LOW_LANE_YIELD_MS: Joi.number().integer().min(0).max(60_000).default(250),
  // ... but never waits longer than this at a time (LOW always progresses).
  LOW_LANE_MAX_HOLD_MS: Joi.number().integer().min(1).max(60_000).default(2_000),
  DELIVERY_CHANNELS: Joi.string().default(CHANNELS.join(',')),
  MAX_ATTEMPTS: Joi.number().integer().min(1).max(50).default(5),
  BACKOFF_BASE_MS: Joi.number().integer().min(1).default(1_000),
  BACKOFF_FACTOR: Joi.number().min(1).default(2),
  BACKOFF_MAX_MS: Joi.number().integer().min(1).default(60_000),
  LEASE_MS: Joi.number().integer().min(100).default(30_000),
  PROVIDER_TIMEOUT_MS: Joi.number().integer().min(10).default(10_000),
  OUTBOX_POLL_MS: Joi.number().integer().min(10).default(250),
  OUTBOX_BATCH_SIZE: Joi.number().integer().min(1).max(10_000).default(200),
  SIM_PROVIDER_LATENCY_MS: Joi.number().integer().min(0).default(20),
  SIM_PROVIDER_FAILURE_RATE: Joi.number().min(0).max(1).default(0),
  SIM_PROVIDER_SEED: Joi.number().integer().default(42),
  LOG_LEVEL: Joi.string().valid('error', 'warn', 'info', 'debug').default('info'),
  OTEL_EXPORTER_OTLP_ENDPOINT: Joi.string().allow('').default('http://127.0.0.1:4000'),
  DEPLOYMENT_ENVIRONMENT: Joi.string().default('local'),
  SERVICE_VERSION: Joi.string().default('0.1.0'),
  SHUTDOWN_TIMEOUT_MS: Joi.number().integer().min(0).default(10_000),
  SERVICE_TOKEN: Joi.string().min(16).empty(''),
  SIM_PROVIDER_URL: Joi.string().uri({ scheme: ['http', 'https'] }).empty(''),
  PROVIDER_CREDENTIALS_KEY: Joi.string().base64().empty(''),
  PROVIDER_ROUTE_CACHE_MS: Joi.number().integer().min(0).default(5_000),
  PROVIDER_SLOW_MS: Joi.number().integer().min(1).default(5_000),
  CIRCUIT_ERROR_THRESHOLD_PERCENT: Joi.number().integer().min(1).max(100).default(50),
  CIRCUIT_VOLUME_THRESHOLD: Joi.number().integer().min(1).default(10),
  CIRCUIT_RESET_MS: Joi.number().integer().min(10).default(30_000),
  CIRCUIT_WINDOW_MS: Joi.number().integer().min(100).default(10_000),
  FAULTS: Joi.string().allow('').default(''),
  ADMIN_TOKEN: Joi.string().min(16).empty(''),
  PUBLIC_URL: Joi.string().uri({ scheme: ['http', 'https'] }).empty(''),
  SIM_RECEIPT_SECRET: Joi.string().min(16).empty(''),
  ...METRICS_ENV,
}).unknown(true);

export function loadConfig(env: NodeJS.ProcessEnv): Readonly<DeliveryConfig> {
  const { value: e, error } = schema.validate(env, { abortEarly: false, convert: true });
  if (error) throw new Error(`invalid configuration: ${error.message}`);
  const channels = String(e.DELIVERY_CHANNELS).split(',').map((c) => c.trim()).filter(Boolean);
  const unknown = channels.filter((c) => !(CHANNELS as readonly string[]).includes(c));
  if (unknown.length) throw new Error(`invalid configuration: DELIVERY_CHANNELS has unknown channels ${unknown.join(', ')}`);
  if (e.PROVIDER_CREDENTIALS_KEY && Buffer.from(e.PROVIDER_CREDENTIALS_KEY, 'base64').length !== 32) throw new Error('invalid configuration: PROVIDER_CREDENTIALS_KEY must be 32 bytes, base64-encoded');
  if (e.LEASE_MS <= e.PROVIDER_TIMEOUT_MS) throw new Error('invalid configuration: LEASE_MS must exceed PROVIDER_TIMEOUT_MS');
  return Object.freeze({
    port: e.PORT,
    http: { headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS, requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS, keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS },
    databaseUrl: e.DATABASE_URL,
    databaseSchema: e.DATABASE_SCHEMA,
    kafka: {
      brokers: String(e.KAFKA_BROKERS).split(',').map((b) => b.trim()).filter(Boolean),
      clientId: e.KAFKA_CLIENT_ID,
      topicPrefix: e.KAFKA_TOPIC_PREFIX,
      sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS,
      heartbeatIntervalMs: e.KAFKA_HEARTBEAT_INTERVAL_MS,
      partitionsConsumedConcurrently: e.KAFKA_PARTITIONS_CONCURRENCY,
      keyConcurrency: e.DELIVERY_KEY_CONCURRENCY,
      maxWaitTimeMs: e.KAFKA_MAX_WAIT_MS,
      lowYieldMs: e.LOW_LANE_YIELD_MS,
      lowMaxHoldMs: e.LOW_LANE_MAX_HOLD_MS,
    },
    channels: channels as Channel[],
    retry: { maxAttempts: e.MAX_ATTEMPTS, baseMs: e.BACKOFF_BASE_MS, factor: e.BACKOFF_FACTOR, maxMs: e.BACKOFF_MAX_MS },
    leaseMs: e.LEASE_MS,
    providerTimeoutMs: e.PROVIDER_TIMEOUT_MS,
    outbox: { pollMs: e.OUTBOX_POLL_MS, batchSize: e.OUTBOX_BATCH_SIZE },
    simulatedProvider: { latencyMs: e.SIM_PROVIDER_LATENCY_MS, failureRate: e.SIM_PROVIDER_FAILURE_RATE, seed: e.SIM_PROVIDER_SEED },
    logLevel: e.LOG_LEVEL,
    otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
    environment: e.DEPLOYMENT_ENVIRONMENT,
    serviceVersion: e.SERVICE_VERSION,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    serviceToken: e.SERVICE_TOKEN ?? null,
    simProviderUrl: e.SIM_PROVIDER_URL ?? null,
    providers: {
      credentialsKey: e.PROVIDER_CREDENTIALS_KEY ?? null,
      routeCacheMs: e.PROVIDER_ROUTE_CACHE_MS,
      slowMs: e.PROVIDER_SLOW_MS,
      breaker: { errorThresholdPercentage: e.CIRCUIT_ERROR_THRESHOLD_PERCENT, volumeThreshold: e.CIRCUIT_VOLUME_THRESHOLD, resetTimeoutMs: e.CIRCUIT_RESET_MS, rollingWindowMs: e.CIRCUIT_WINDOW_MS },
    },
    faults: parseFaults(e.FAULTS),
    adminToken: e.ADMIN_TOKEN ?? null,
    receipts: { publicUrl: e.PUBLIC_URL ? String(e.PUBLIC_URL).replace(/\/+$/, '') : null, simSecret: e.SIM_RECEIPT_SECRET ?? null },
    metrics: metricsConfig(e),
  });
}
