import { loadProviderSimConfig } from './config';
import { DEFAULT_INSTRUMENTATIONS } from '@ca/telemetry/src/instrumentations';

const config = loadProviderSimConfig(process.env);
process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS ??= DEFAULT_INSTRUMENTATIONS;
// Telemetry first: express and pg are required only after the SDK patched them.
const { startTelemetry } = require('@ca/telemetry/start') as typeof import('@ca/telemetry/start');
const telemetry = startTelemetry({ serviceName: 'provider-sim', serviceVersion: config.serviceVersion, environment: config.environment, otlpEndpoint: config.otlpEndpoint });

async function main(): Promise<void> {
  const { buildProviderSim, providerSimMigrations } = require('./sim-app') as typeof import('./sim-app');
  const { createLogger } = require('@ca/telemetry') as typeof import('@ca/telemetry');
  const { createDb, ensureDatabase, migrate } = require('@ca/postgres') as typeof import('@ca/postgres');
  const { createHttpServer } = require('@ca/http') as typeof import('@ca/http');
  const { seededRandom } = require('../providers/seeded-random') as typeof import('../providers/seeded-random');

  const logger = createLogger({ service: 'provider-sim', level: config.logLevel });
  await ensureDatabase(config.databaseUrl);
  const db = createDb({ url: config.databaseUrl, schema: config.databaseSchema });
  await migrate(db, config.databaseSchema, providerSimMigrations);
  const { createReceiptSender } = require('./receipt-sender') as typeof import('./receipt-sender');
  const clock = { now: () => new Date() };
  const receipts = createReceiptSender(config.receipts, { random: seededRandom(config.seed + 1), clock, logger });
  const app = buildProviderSim({ db, logger, clock, random: seededRandom(config.seed), latencyMs: config.latencyMs, failureRate: config.failureRate, receipts });
  // Loopback only: it stands in for providers on the internet, for this machine's services.
  const server = createHttpServer(app, config.http, logger).listen(config.port, '127.0.0.1', () => logger.info('provider-sim listening', { port: config.port }));
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    const deadline = setTimeout(() => process.exit(1), 10_000).unref();
    receipts.close();
    await new Promise((resolve) => server.close(resolve));
    await db.destroy();
    await telemetry.shutdown();
    clearTimeout(deadline);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ level: 'error', service: 'provider-sim', message: 'failed to start', error: (err as Error).message }));
  process.exit(1);
});
