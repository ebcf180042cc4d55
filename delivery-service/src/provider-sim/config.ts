import Joi from 'joi';
import type { HttpTimeouts } from '@ca/http';

/** provider-sim's settings (README "Configuration", provider-sim rows). */
export interface ProviderSimConfig {
  port: number;
  http: HttpTimeouts;
  databaseUrl: string;
  databaseSchema: string;
  latencyMs: number;
  failureRate: number;
  seed: number;
  logLevel: string;
  otlpEndpoint: string;
  environment: string;
  serviceVersion: string;
  receipts: { secret: string | null; delayMs: number; bounceRate: number; undeliveredRate: number };
}

interface Env {
  PROVIDER_SIM_PORT: number;
  DATABASE_URL: string;
  PROVIDER_SIM_SCHEMA: string;
  SIM_PROVIDER_LATENCY_MS: number;
  SIM_PROVIDER_FAILURE_RATE: number;
  SIM_PROVIDER_SEED: number;
  LOG_LEVEL: string;
  OTEL_EXPORTER_OTLP_ENDPOINT: string;
  DEPLOYMENT_ENVIRONMENT: string;
  SERVICE_VERSION: string;
  SIM_RECEIPT_SECRET?: string;
  SIM_RECEIPT_DELAY_MS: number;
  SIM_RECEIPT_BOUNCE_RATE: number;
  SIM_RECEIPT_UNDELIVERED_RATE: number;
}

const schema = Joi.object<Env, true>({
  PROVIDER_SIM_PORT: Joi.number().port().default(3002),
  DATABASE_URL: Joi.string().uri({ scheme: ['postgres', 'postgresql'] }).default('postgres://postgres@127.0.0.1:5432/comm_aggregator'),
  PROVIDER_SIM_SCHEMA: Joi.string().pattern(/^[a-z_][a-z0-9_]*$/).default('provider_sim'),
  SIM_PROVIDER_LATENCY_MS: Joi.number().integer().min(0).default(20),
  SIM_PROVIDER_FAILURE_RATE: Joi.number().min(0).max(1).default(0),
  SIM_PROVIDER_SEED: Joi.number().integer().default(42),
  LOG_LEVEL: Joi.string().valid('error', 'warn', 'info', 'debug').default('info'),
  OTEL_EXPORTER_OTLP_ENDPOINT: Joi.string().allow('').default('http://127.0.0.1:4000'),
  DEPLOYMENT_ENVIRONMENT: Joi.string().default('local'),
  SERVICE_VERSION: Joi.string().default('0.1.0'),
  // A secret: no default. Unset: no receipts are sent.
  SIM_RECEIPT_SECRET: Joi.string().min(16).empty(''),
  SIM_RECEIPT_DELAY_MS: Joi.number().integer().min(0).default(1_000),
  SIM_RECEIPT_BOUNCE_RATE: Joi.number().min(0).max(1).default(0),
  SIM_RECEIPT_UNDELIVERED_RATE: Joi.number().min(0).max(1).default(0),
}).unknown(true);

export function loadProviderSimConfig(env: NodeJS.ProcessEnv): Readonly<ProviderSimConfig> {
  const { value: e, error } = schema.validate(env, { abortEarly: false, convert: true });
  if (error) throw new Error(`invalid configuration: ${error.message}`);
  return Object.freeze({
    port: e.PROVIDER_SIM_PORT,
    http: { headersTimeoutMs: 10_000, requestTimeoutMs: 15_000, keepAliveTimeoutMs: 5_000 },
    databaseUrl: e.DATABASE_URL,
    databaseSchema: e.PROVIDER_SIM_SCHEMA,
    latencyMs: e.SIM_PROVIDER_LATENCY_MS,
    failureRate: e.SIM_PROVIDER_FAILURE_RATE,
    seed: e.SIM_PROVIDER_SEED,
    logLevel: e.LOG_LEVEL,
    otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
    environment: e.DEPLOYMENT_ENVIRONMENT,
    serviceVersion: e.SERVICE_VERSION,
    receipts: { secret: e.SIM_RECEIPT_SECRET ?? null, delayMs: e.SIM_RECEIPT_DELAY_MS, bounceRate: e.SIM_RECEIPT_BOUNCE_RATE, undeliveredRate: e.SIM_RECEIPT_UNDELIVERED_RATE },
  });
}
