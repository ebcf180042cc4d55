import { resolve } from 'node:path';
import Joi from 'joi';
// The settings module only (joi): config loads before telemetry patches express, pg and winston.
import { parseFaults } from '@ca/faults/settings';
import { METRICS_ENV, metricsConfig, type MetricsEnv } from '@ca/metrics/config';

/** Environment variables router-service reads (README "Configuration" lists each with its unit). */
interface Env extends MetricsEnv {
  PORT: number;
  DATABASE_URL: string;
  DATABASE_SCHEMA: string;
  KAFKA_BROKERS: string;
  KAFKA_CLIENT_ID: string;
  KAFKA_TOPIC_PREFIX: string;
  DELIVERY_URL: string;
  DELIVERY_TIMEOUT_MS: number;
  TRACE_VIEW_URL: string;
  DEDUP_WINDOW_SECONDS: number;
  IDEMPOTENCY_TTL_SECONDS: number;
  RATE_LIMIT_PER_RECIPIENT_PER_MINUTE: number;
  OUTBOX_POLL_MS: number;
  OUTBOX_BATCH_SIZE: number;
  OUTBOX_STUCK_SECONDS: number;
  LOW_LANE_YIELD_MS: number;
  LOW_LANE_MAX_HOLD_MS: number;
  BODY_LIMIT: string;
  HTTP_HEADERS_TIMEOUT_MS: number;
  HTTP_REQUEST_TIMEOUT_MS: number;
  HTTP_KEEP_ALIVE_TIMEOUT_MS: number;
  LOG_LEVEL: string;
  OTEL_EXPORTER_OTLP_ENDPOINT: string;
  DEPLOYMENT_ENVIRONMENT: string;
  SERVICE_VERSION: string;
  SHUTDOWN_TIMEOUT_MS: number;
  BOOTSTRAP_API_KEY?: string;
  API_KEY_CACHE_MS: number;
  API_RATE_LIMIT_BURST: number;
  API_RATE_LIMIT_PER_SECOND: number;
  HOST: string;
  TLS_CERT_FILE?: string;
  TLS_KEY_FILE?: string;
  HTTPS_PORT: number;
  HTTPS_ONLY: boolean;
  TRUST_PROXY: string;
  HSTS_MAX_AGE_SECONDS: number;
  SERVICE_TOKEN?: string;
  USER_RATE_LIMIT: number;
  USER_RATE_WINDOW_SECONDS: number;
  USER_RATE_ON_LIMIT: 'reject' | 'defer';
  GRAPHQL_MAX_DEPTH: number;
  GRAPHQL_MAX_COST: number;
  CONSOLE_DIR: string;
  CONSOLE_SESSION_TTL_SECONDS: number;
  KIBANA_URL: string;
  CAMPAIGN_BATCH_SIZE: number;
  CAMPAIGN_POLL_MS: number;
  SCHEDULE_HORIZON_SECONDS: number;
  BATCH_MAX_ITEMS: number;
  CANCEL_SETTLE_MS: number;
  BATCH_BODY_LIMIT: string;
  FAULTS: string;
  ADMIN_TOKEN?: string;
  WEBHOOK_ALLOW_PRIVATE: boolean;
  WEBHOOK_ALLOWED_HOSTS: string;
  WEBHOOK_TIMEOUT_MS: number;
  WEBHOOK_BACKOFF_BASE_MS: number;
  WEBHOOK_BACKOFF_MAX_MS: number;
  WEBHOOK_DISABLE_AFTER_SECONDS: number;
}

const url = Joi.string().uri({ scheme: ['http', 'https'] });

const envSchema = Joi.object<Env, true>({
  PORT: Joi.number().integer().min(0).max(65_535).default(3000),
  DATABASE_URL: Joi.string().uri({ scheme: ['postgres', 'postgresql'] }).default('postgres://postgres@127.0.0.1:5432/comm_aggregator'),
  DATABASE_SCHEMA: Joi.string().pattern(/^[a-z_][a-z0-9_]{0,62}$/).default('router'),
  KAFKA_BROKERS: Joi.string().pattern(/^[^,\s]+(,[^,\s]+)*$/).required(),
  KAFKA_CLIENT_ID: Joi.string().default('router-service'),
  KAFKA_TOPIC_PREFIX: Joi.string().allow('').pattern(/^[A-Za-z0-9._-]*$/).default(''),
  DELIVERY_URL: url.default('http://127.0.0.1:3001'),
  DELIVERY_TIMEOUT_MS: Joi.number().integer().min(1).default(2000),
  // Empty: responses carry links.trace = null (no trace viewer deployed).
  TRACE_VIEW_URL: url.allow('').default('http://127.0.0.1:4000'),
  DEDUP_WINDOW_SECONDS: Joi.number().integer().min(1).default(3600),
  IDEMPOTENCY_TTL_SECONDS: Joi.number().integer().min(1).default(86_400),
  RATE_LIMIT_PER_RECIPIENT_PER_MINUTE: Joi.number().integer().min(0).default(60),
  OUTBOX_POLL_MS: Joi.number().integer().min(10).default(250),
  OUTBOX_BATCH_SIZE: Joi.number().integer().min(1).max(10_000).default(100),
  OUTBOX_STUCK_SECONDS: Joi.number().integer().min(0).default(60),
  // LOW yields to HIGH in the outbox relay too (as in delivery-service): no LOW rows are published
  // until the HIGH round has been idle this long (0: off) ...
  LOW_LANE_YIELD_MS: Joi.number().integer().min(0).max(60_000).default(250),
  // ... but they never wait longer than this at a time (LOW always progresses).
  LOW_LANE_MAX_HOLD_MS: Joi.number().integer().min(1).max(60_000).default(2_000),
  BODY_LIMIT: Joi.string().pattern(/^\d+(b|kb|mb)?$/i).default('256kb'),
  // Slow clients are cut off in seconds: headers, then the whole request, then an idle keep-alive.
  HTTP_HEADERS_TIMEOUT_MS: Joi.number().integer().min(100).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: Joi.number().integer().min(Joi.ref('HTTP_HEADERS_TIMEOUT_MS')).default(15_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: Joi.number().integer().min(100).default(5_000),
  LOG_LEVEL: Joi.string().valid('error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly').default('info'),
  // Empty: no OTLP export (spans still carry ids, traceparent still propagates).
  OTEL_EXPORTER_OTLP_ENDPOINT: url.allow('').default('http://127.0.0.1:4000'),
  DEPLOYMENT_ENVIRONMENT: Joi.string().default('local'),
  SERVICE_VERSION: Joi.string().default('0.1.0'),
  SHUTDOWN_TIMEOUT_MS: Joi.number().integer().min(0).default(10_000),
  // A secret: no default. When set, merchant `default` has an admin key with exactly this value.
  BOOTSTRAP_API_KEY: Joi.string().min(24).max(200).pattern(/^[A-Za-z0-9\-._~+/]+=*$/).empty(''),
  // How long a process trusts a looked-up key: the bound on how late a revocation takes effect.
  API_KEY_CACHE_MS: Joi.number().integer().min(0).max(1000).default(500),
  API_RATE_LIMIT_BURST: Joi.number().integer().min(1).default(200),
  // 0 disables the per-key limit.
  API_RATE_LIMIT_PER_SECOND: Joi.number().min(0).default(100),
  // Interface the plain-HTTP listener binds (npm start: 127.0.0.1, so plain HTTP stays local).
  HOST: Joi.string().default('0.0.0.0'),
  // Both set: HTTPS is served on HTTPS_PORT as well (PEM files).
  TLS_CERT_FILE: Joi.string(),
  TLS_KEY_FILE: Joi.string(),
  HTTPS_PORT: Joi.number().integer().min(0).max(65_535).default(3443),
  HTTPS_ONLY: Joi.boolean().default(false),
  // express `trust proxy`: whose X-Forwarded-Proto/-For count ('false', 'loopback', CIDRs, a hop count).
  TRUST_PROXY: Joi.string().default('false'),
  HSTS_MAX_AGE_SECONDS: Joi.number().integer().min(0).default(31_536_000),
  // Shared service credential: sent to delivery-service's internal API and accepted on /internal here.
  SERVICE_TOKEN: Joi.string().min(16).empty(''),
  // Notifications per user (all templates and channels) per window; a merchant may override it. 0 disables.
  USER_RATE_LIMIT: Joi.number().integer().min(0).default(5),
  USER_RATE_WINDOW_SECONDS: Joi.number().integer().min(1).max(86_400).default(60),
  USER_RATE_ON_LIMIT: Joi.string().valid('reject', 'defer').default('reject'),
  // GraphQL documents deeper or costlier than this are refused before execution (graphql-armor's static cost).
  GRAPHQL_MAX_DEPTH: Joi.number().integer().min(1).max(50).default(6),
  GRAPHQL_MAX_COST: Joi.number().integer().min(1).default(1000),
  // The built console (console/build.mjs) served at /console/: the repository's console/dist, in the image too.
  CONSOLE_DIR: Joi.string().default(resolve(__dirname, '../../console/dist')),
  CONSOLE_SESSION_TTL_SECONDS: Joi.number().integer().min(60).max(7 * 86_400).default(12 * 3600),
  // Kibana's base URL: the console links each campaign message to its APM trace there too (empty: no link).
  KIBANA_URL: url.allow('').default(''),
  // Recipients turned into messages (+ outbox rows) per transaction when a campaign runs.
  CAMPAIGN_BATCH_SIZE: Joi.number().integer().min(1).max(5000).default(1000),
  CAMPAIGN_POLL_MS: Joi.number().integer().min(50).default(1000),
  // Furthest ahead a sendAt may lie (default 30 days).
  SCHEDULE_HORIZON_SECONDS: Joi.number().integer().min(1).default(30 * 86_400),
  // Most items in one POST /v1/messages/batch.
  BATCH_MAX_ITEMS: Joi.number().integer().min(1).max(10_000).default(1000),
  // A cancel that meets an attempt in flight waits this long for its outcome, to answer 409 with it.
  CANCEL_SETTLE_MS: Joi.number().integer().min(0).default(3000),
  BATCH_BODY_LIMIT: Joi.string().pattern(/^\d+(b|kb|mb)?$/i).default('16mb'),
  // Faults injected from the start (README "Failure scenarios"), e.g. broker.publish_failure=0.5.
  FAULTS: Joi.string().allow('').default(''),
  // A secret: no default. Unset: /admin/faults does not exist.
  ADMIN_TOKEN: Joi.string().min(16).empty(''),
  // Webhook destinations (docs/webhooks.md "SSRF"): private, loopback, link-local ... addresses are
  // refused unless allowed here (npm start's local demo sets WEBHOOK_ALLOW_PRIVATE=true).
  WEBHOOK_ALLOW_PRIVATE: Joi.boolean().default(false),
  // Comma-separated host names, addresses or CIDRs that may be called even if private.
  WEBHOOK_ALLOWED_HOSTS: Joi.string().allow('').default(''),
  WEBHOOK_TIMEOUT_MS: Joi.number().integer().min(100).default(10_000),
  WEBHOOK_BACKOFF_BASE_MS: Joi.number().integer().min(1).default(5_000),
  WEBHOOK_BACKOFF_MAX_MS: Joi.number().integer().min(1).default(3_600_000),
  // An endpoint failing this long without one success is disabled (default 5 days).
  WEBHOOK_DISABLE_AFTER_SECONDS: Joi.number().min(0.001).default(5 * 86_400),
  ...METRICS_ENV,
}).and('TLS_CERT_FILE', 'TLS_KEY_FILE').unknown(true);

function toConfig(env: Env) {
  return {
    port: env.PORT,
    host: env.HOST,
    tls: env.TLS_CERT_FILE && env.TLS_KEY_FILE ? { certFile: env.TLS_CERT_FILE, keyFile: env.TLS_KEY_FILE, port: env.HTTPS_PORT } : null,
    http: { headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS, requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS, keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS },
    database: { url: env.DATABASE_URL, schema: env.DATABASE_SCHEMA },
    kafka: {
      brokers: env.KAFKA_BROKERS.split(','),
      clientId: env.KAFKA_CLIENT_ID,
      topicPrefix: env.KAFKA_TOPIC_PREFIX,
    },
    telemetry: {
      serviceName: 'router-service',
      serviceVersion: env.SERVICE_VERSION,
      environment: env.DEPLOYMENT_ENVIRONMENT,
      otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
    },
    metrics: metricsConfig(env),
    logLevel: env.LOG_LEVEL,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    bootstrapApiKey: env.BOOTSTRAP_API_KEY ?? null,
    faults: parseFaults(env.FAULTS),
    settings: {
      topicPrefix: env.KAFKA_TOPIC_PREFIX,
      deliveryUrl: env.DELIVERY_URL.replace(/\/+$/, ''),
      deliveryTimeoutMs: env.DELIVERY_TIMEOUT_MS,
      traceViewUrl: env.TRACE_VIEW_URL.replace(/\/+$/, ''),
      dedupWindowSeconds: env.DEDUP_WINDOW_SECONDS,
      idempotencyTtlSeconds: env.IDEMPOTENCY_TTL_SECONDS,
      rateLimitPerMinute: env.RATE_LIMIT_PER_RECIPIENT_PER_MINUTE,
      outboxPollMs: env.OUTBOX_POLL_MS,
      outboxBatchSize: env.OUTBOX_BATCH_SIZE,
      outboxStuckSeconds: env.OUTBOX_STUCK_SECONDS,
      outboxLowYield: { quietMs: env.LOW_LANE_YIELD_MS, maxHoldMs: env.LOW_LANE_MAX_HOLD_MS },
      bodyLimit: env.BODY_LIMIT,
      apiKeyCacheMs: env.API_KEY_CACHE_MS,
      apiRateLimit: { burst: env.API_RATE_LIMIT_BURST, perSecond: env.API_RATE_LIMIT_PER_SECOND },
      trustProxy: parseTrustProxy(env.TRUST_PROXY),
      serviceToken: env.SERVICE_TOKEN ?? null,
      userRateLimit: { limit: env.USER_RATE_LIMIT, windowSeconds: env.USER_RATE_WINDOW_SECONDS, onLimit: env.USER_RATE_ON_LIMIT },
      console: { dir: env.CONSOLE_DIR, sessionTtlSeconds: env.CONSOLE_SESSION_TTL_SECONDS },
      kibanaUrl: env.KIBANA_URL.replace(/\/+$/, ''),
      campaigns: { batchSize: env.CAMPAIGN_BATCH_SIZE, pollMs: env.CAMPAIGN_POLL_MS },
      adminToken: env.ADMIN_TOKEN ?? null,
      transport: { httpsOnly: env.HTTPS_ONLY, httpsPort: env.HTTPS_PORT, hstsMaxAgeSeconds: env.HSTS_MAX_AGE_SECONDS },
      graphqlLimits: { maxDepth: env.GRAPHQL_MAX_DEPTH, maxCost: env.GRAPHQL_MAX_COST },
      scheduleHorizonSeconds: env.SCHEDULE_HORIZON_SECONDS,
      batchMaxItems: env.BATCH_MAX_ITEMS,
      cancelSettleMs: env.CANCEL_SETTLE_MS,
      batchBodyLimit: env.BATCH_BODY_LIMIT,
      webhooks: {
        allowPrivate: env.WEBHOOK_ALLOW_PRIVATE,
        allowedHosts: env.WEBHOOK_ALLOWED_HOSTS.split(',').map((s) => s.trim()).filter(Boolean),
        timeoutMs: env.WEBHOOK_TIMEOUT_MS,
        backoff: { baseMs: env.WEBHOOK_BACKOFF_BASE_MS, maxMs: env.WEBHOOK_BACKOFF_MAX_MS },
        disableAfterMs: Math.round(env.WEBHOOK_DISABLE_AFTER_SECONDS * 1000),
      },
    },
  };
}

/** 'true'/'false', a hop count, or a comma-separated list of addresses/CIDRs/names express knows. */
function parseTrustProxy(raw: string): boolean | number | string[] {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (/^\d+$/.test(raw)) return Number(raw);
  return raw.split(',').map((s) => s.trim()).filter(Boolean);
}

export type Config = Readonly<ReturnType<typeof toConfig>>;
/** What buildRouterService needs from the configuration (tests build it directly). */
export type RouterSettings = Config['settings'];

/** Parses the environment once; throws listing every invalid variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const { value, error } = envSchema.validate(env, { abortEarly: false, convert: true });
  if (error) throw new Error(`invalid configuration: ${error.details.map((d) => d.message).join('; ')}`);
  return deepFreeze(toConfig(value));
}

function deepFreeze<T>(obj: T): T {
  for (const v of Object.values(obj as object)) if (v && typeof v === 'object') deepFreeze(v);
  return Object.freeze(obj);
}
