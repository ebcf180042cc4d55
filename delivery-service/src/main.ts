import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { loadConfig } from './config';
import { DEFAULT_INSTRUMENTATIONS } from '@ca/telemetry/src/instrumentations';

const config = loadConfig(process.env);
// undici too: provider adapters call out with fetch, and every provider call gets an HTTP client span.
process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS ??= `${DEFAULT_INSTRUMENTATIONS},undici`;
// Telemetry first: express, kafkajs, pg and winston are required only after the SDK patched them.
const { startTelemetry } = require('@ca/telemetry/start') as typeof import('@ca/telemetry/start');
const { createMetricsExport } = require('@ca/metrics/export') as typeof import('@ca/metrics/export');
const metricsExport = createMetricsExport({ ...config.metrics, otlpEndpoint: config.otlpEndpoint });
const telemetry = startTelemetry({
  serviceName: 'delivery-service',
  serviceVersion: config.serviceVersion,
  environment: config.environment,
  otlpEndpoint: config.otlpEndpoint,
  // /metrics gets no span: a scrape is not a request anyone traces, and its outbox read stays span-less.
  ignorePaths: ['/health', '/ready', '/metrics'],
  metricReaders: metricsExport.readers,
});

async function main(): Promise<void> {
  const { buildDeliveryService } = require('./app') as typeof import('./app');
  const { createLogger } = require('@ca/telemetry') as typeof import('@ca/telemetry');
  const { createDb, ensureDatabase, migrate } = require('@ca/postgres') as typeof import('@ca/postgres');
  const { createKafka, createDurableProducer } = require('@ca/kafka') as typeof import('@ca/kafka');
  const { createSimulatedProviders } = require('./providers/simulated-provider') as typeof import('./providers/simulated-provider');
  const { seededRandom } = require('./providers/seeded-random') as typeof import('./providers/seeded-random');
  const { deliveryMigrations } = require('./db/migrations') as typeof import('./db/migrations');
  const { createHttpServer } = require('@ca/http') as typeof import('@ca/http');
  const { createHttpSimProviders } = require('./providers/http-sim-provider') as typeof import('./providers/http-sim-provider');

  const logger = createLogger({ service: 'delivery-service', level: config.logLevel });
  await ensureDatabase(config.databaseUrl);
  const db = createDb({ url: config.databaseUrl, schema: config.databaseSchema });
  await migrate(db, config.databaseSchema, deliveryMigrations);

  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: config.kafka.clientId, log: (level, message, extra) => logger.log(level, `kafka: ${message}`, extra) });
  const producer = createDurableProducer(kafka);
  await producer.connect();
  const clock = { now: () => new Date() };
  const service = buildDeliveryService({
    db,
    kafka,
    producer,
    // With SIM_PROVIDER_URL (npm start): the simulated providers are the provider-sim process, a real network hop.
    providers: config.simProviderUrl
      ? createHttpSimProviders(config.simProviderUrl, clock)
      : createSimulatedProviders({ db, clock, random: seededRandom(config.simulatedProvider.seed), latencyMs: config.simulatedProvider.latencyMs, failureRate: config.simulatedProvider.failureRate }),
    providerRouting: { credentialsKey: config.providers.credentialsKey, breaker: config.providers.breaker, cacheMs: config.providers.routeCacheMs, slowMs: config.providers.slowMs },
    logger,
    clock,
    random: Math.random,
    faults: (require('@ca/faults') as typeof import('@ca/faults')).createFaults(config.faults),
    settings: {
      workerId: `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
      topicPrefix: config.kafka.topicPrefix,
      channels: config.channels,
      policy: { maxAttempts: config.retry.maxAttempts, backoff: config.retry, leaseMs: config.leaseMs, providerTimeoutMs: config.providerTimeoutMs },
      consumer: { sessionTimeoutMs: config.kafka.sessionTimeoutMs, heartbeatIntervalMs: config.kafka.heartbeatIntervalMs, partitionsConsumedConcurrently: config.kafka.partitionsConsumedConcurrently, keyConcurrency: config.kafka.keyConcurrency, maxWaitTimeMs: config.kafka.maxWaitTimeMs, lowYieldMs: config.kafka.lowYieldMs, lowMaxHoldMs: config.kafka.lowMaxHoldMs },
      outbox: config.outbox,
      serviceToken: config.serviceToken,
      adminToken: config.adminToken,
      receipts: config.receipts,
    },
    metrics: { prometheus: metricsExport.prometheus, token: config.metrics.token, tenantLabelLimit: config.metrics.tenantLabelLimit, pollMs: config.metrics.pollMs },
  });
  if (!config.serviceToken) logger.warn('SERVICE_TOKEN is not set: the internal API is open to anyone who can reach this port');
  // Listen first: liveness answers at once, readiness once the consumer groups have joined.
  const server = createHttpServer(service.app, config.http, logger).listen(config.port, () => logger.info('delivery-service listening', { port: config.port, channels: config.channels }));
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    const deadline = setTimeout(() => process.exit(1), config.shutdownTimeoutMs).unref();
    server.close();
    await service.stop();
    await producer.disconnect();
    await db.destroy();
    await telemetry.shutdown();
    clearTimeout(deadline);
    process.exit(0);
  };
  // Signals are handled before the (possibly slow) group joins: it answers /health already, so a
  // supervisor may stop it at any moment and must get the graceful path.
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  const startedAt = Date.now();
  await service.start();
  if (!stopping) logger.info('delivery-service ready: consumer groups joined', { ms: Date.now() - startedAt });
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ level: 'error', service: 'delivery-service', message: 'failed to start', error: (err as Error).message }));
  process.exit(1);
});
