import type { Express } from 'express';
import { createServiceApp, healthRouter, sealServiceApp } from '@ca/http';
import type { Logger } from '@ca/telemetry';
import { createIngestGate } from './ingest/ingest-gate';
import { otlpRouter, type IngestLimits } from './ingest/otlp-router';
import type { Store } from './sinks/store';
import { traceRouter } from './traces/trace-router';

export const SERVICE_NAME = 'logging-service';

export interface LoggingServiceDeps {
  /** Elasticsearch or PostgreSQL (or a test double). */
  store: Store;
  logger: Logger;
  limits: IngestLimits;
}

export interface LoggingService {
  app: Express;
  /** Installs index templates / applies migrations; call before listening. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function buildLoggingService({ store, logger, limits }: LoggingServiceDeps): LoggingService {
  const app = createServiceApp();
  app.use(healthRouter(SERVICE_NAME, { [store.kind]: () => store.ready() }));
  app.use(otlpRouter({ store, logger, limits, gate: createIngestGate(limits) }));
  app.use(traceRouter(store));
  sealServiceApp(app, logger);
  return {
    app,
    start: () => store.start(),
    close: () => store.close(),
  };
}
