import { loadConfig } from './config';
import { DEFAULT_INSTRUMENTATIONS } from '@ca/telemetry/src/instrumentations';

const config = loadConfig(process.env);
process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS ??= DEFAULT_INSTRUMENTATIONS;
const { startTelemetry } = require('@ca/telemetry/start') as typeof import('@ca/telemetry/start');
const { createMetricsExport } = require('@ca/metrics/export') as typeof import('@ca/metrics/export');
const metricsExport = createMetricsExport({ ...config.metrics, otlpEndpoint: config.otlpEndpoint });
// OTEL_EXPORTER_OTLP_ENDPOINT is empty by default: logging-service does not trace itself into
// itself. The intake paths are never traced either way, or every export would beget another.
const telemetry = startTelemetry({
  serviceName: 'logging-service',
  serviceVersion: config.serviceVersion,
  environment: config.environment,
  otlpEndpoint: config.otlpEndpoint,
  ignorePaths: ['/health', '/ready', '/metrics', '/v1/traces', '/v1/logs'],
  metricReaders: metricsExport.readers,
});

const { buildLoggingService, SERVICE_NAME } = require('./app') as typeof import('./app');
const { createLogger } = require('@ca/telemetry') as typeof import('@ca/telemetry');
const { createStore } = require('./sinks/create-store') as typeof import('./sinks/create-store');
const { routerKeyVerifier } = require('./access/key-verifier') as typeof import('./access/key-verifier');
const { createHttpServer } = require('@ca/http') as typeof import('@ca/http');

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

async function main(): Promise<void> {
  const logger = createLogger({ service: SERVICE_NAME, level: config.logLevel });
  const store = createStore(config, (err) => logger.warn('store write failed', { error: (err as Error).message }));
  const verifyKey = routerKeyVerifier({ routerUrl: config.routerUrl, serviceToken: config.serviceToken, cacheMs: config.apiKeyCacheMs });
  const htmlViewOpen = LOOPBACK.has(config.host);
  const service = buildLoggingService({
    store, logger, limits: config.ingest, serviceToken: config.serviceToken,
    faults: (require('@ca/faults') as typeof import('@ca/faults')).createFaults(config.faults), adminToken: config.adminToken,
    access: { read: { serviceToken: config.serviceToken, verifyKey }, htmlViewOpen },
    metrics: { prometheus: metricsExport.prometheus, token: config.metrics.token, tenantLabelLimit: config.metrics.tenantLabelLimit, pollMs: config.metrics.pollMs },
  });
  if (!config.serviceToken) logger.warn('SERVICE_TOKEN is not set: the OTLP intake accepts spans from anyone who can reach this port');
  await service.start();
  const server = createHttpServer(service.app, config.http, logger).listen(config.port, config.host, () => {
    logger.info('logging-service listening', { port: config.port, host: config.host, store: store.kind, htmlTraceViewOpen: htmlViewOpen });
  });
  server.on('error', (err) => {
    logger.error('server error', { error: err.message });
    process.exit(1);
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    // Stop intake, let in-flight exports finish their writes, then close the store and telemetry.
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await service.close();
    await telemetry.shutdown().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ level: 'error', message: 'logging-service failed to start', error: (err as Error).message }));
  process.exit(1);
});
