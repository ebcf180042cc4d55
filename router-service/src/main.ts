import { loadConfig } from './config';
import { DEFAULT_INSTRUMENTATIONS } from '@ca/telemetry/src/instrumentations'; // does not load winston

const config = loadConfig(process.env);
process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS ??= DEFAULT_INSTRUMENTATIONS;
// The SDK must patch express, kafkajs, pg and winston before anything requires them.
const { startTelemetry } = require('@ca/telemetry/start') as typeof import('@ca/telemetry/start');
const { createMetricsExport } = require('@ca/metrics/export') as typeof import('@ca/metrics/export');
const metricsExport = createMetricsExport({ ...config.metrics, otlpEndpoint: config.telemetry.otlpEndpoint });
// /metrics gets no span: a scrape is not a request anyone traces, and its outbox read stays span-less.
const telemetry = startTelemetry({ ...config.telemetry, ignorePaths: ['/health', '/ready', '/metrics'], metricReaders: metricsExport.readers });

const { buildRouterService } = require('./app') as typeof import('./app');
const { createLogger } = require('@ca/telemetry') as typeof import('@ca/telemetry');
const { createDb, ensureDatabase, migrate } = require('@ca/postgres') as typeof import('@ca/postgres');
const { createDurableProducer, createKafka } = require('@ca/kafka') as typeof import('@ca/kafka');
const { routerMigrations } = require('./db/migrations') as typeof import('./db/migrations');
const { systemClock } = require('./clock') as typeof import('./clock');
const { readFileSync } = require('node:fs') as typeof import('node:fs');
const { ensureBootstrapKey } = require('./auth/key-store') as typeof import('./auth/key-store');
const { createHttpServer } = require('@ca/http') as typeof import('@ca/http');

const logger = createLogger({ service: config.telemetry.serviceName, level: config.logLevel });

async function main(): Promise<void> {
  await ensureDatabase(config.database.url);
  const db = createDb(config.database);
  await migrate(db, config.database.schema, routerMigrations);
  if (config.bootstrapApiKey) await ensureBootstrapKey(db, config.bootstrapApiKey, systemClock.now());

  const kafka = createKafka({
    brokers: [...config.kafka.brokers],
    clientId: config.kafka.clientId,
    log: (level, message, extra) => logger.log(level, `kafka: ${message}`, { kafka: extra }),
  });
  const producer = createDurableProducer(kafka);
  // Not awaited as a start condition: with Kafka down the service still accepts (the outbox holds
  // messages) and the relay keeps connecting with backoff.
  producer.connect().catch((err: unknown) => logger.warn('kafka not reachable at start; the outbox relay will retry', { error: (err as Error).message }));

  const { createFaults } = require('@ca/faults') as typeof import('@ca/faults');
  const metrics = { prometheus: metricsExport.prometheus, token: config.metrics.token, tenantLabelLimit: config.metrics.tenantLabelLimit, pollMs: config.metrics.pollMs };
  const service = buildRouterService({ db, producer, kafka, settings: config.settings, logger, clock: systemClock, metrics, faults: createFaults(config.faults) });
  service.start();
  const servers = [createHttpServer(service.app, config.http, logger).listen(config.port, config.host, () => logger.info('router-service listening', { port: config.port, host: config.host, scheme: 'http' }))];
  if (config.tls) {
    const { port } = config.tls;
    const tls = { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) };
    servers.push(createHttpServer(service.app, config.http, logger, tls).listen(port, () => logger.info('router-service listening', { port, scheme: 'https' })));
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed; exiting', { timeoutMs: config.shutdownTimeoutMs });
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    void (async () => {
      // Stop intake first; requests in progress finish (their transactions commit or roll back).
      const started = Date.now();
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
      logger.debug('intake stopped', { ms: Date.now() - started });
      await service.close(); // relay finishes its in-flight batch
      logger.debug('relay stopped', { ms: Date.now() - started });
      await producer.disconnect().catch(() => undefined);
      logger.debug('producer closed', { ms: Date.now() - started });
      await db.destroy();
      logger.info('router-service stopped', { ms: Date.now() - started });
      await telemetry.shutdown().catch(() => undefined);
      clearTimeout(deadline);
      process.exit(0);
    })().catch((err: unknown) => {
      logger.error('shutdown failed', { error: (err as Error).message });
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  logger.error('router-service failed to start', { error: (err as Error).message, stack: (err as Error).stack });
  void telemetry.shutdown().finally(() => process.exit(1));
});
