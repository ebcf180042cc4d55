import type { Express } from 'express';
import { createServiceApp, healthRouter, requireServiceToken, sealServiceApp } from '@ca/http';
import type { Logger } from '@ca/telemetry';
import { createIngestGate } from './ingest/ingest-gate';
import { otlpRouter, type IngestLimits } from './ingest/otlp-router';
import type { Store } from './sinks/store';
import { traceRouter, type TraceAccess } from './traces/trace-router';

export const SERVICE_NAME = 'logging-service';

export interface LoggingServiceDeps {
  /** Elasticsearch or PostgreSQL (or a test double). */
  store: Store;
  logger: Logger;
  limits: IngestLimits;
  /** SERVICE_TOKEN: required on the OTLP intake (null: open). */
  serviceToken?: string | null;
  /** Who may read traces and logs; absent: open (store tests). */
  access?: TraceAccess;
}

export interface LoggingService {
  app: Express;
  /** Installs index templates / applies migrations; call before listening. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function buildLoggingService({ store, logger, limits, serviceToken = null, access }: LoggingServiceDeps): LoggingService {
  const app = createServiceApp();
  app.use(healthRouter(SERVICE_NAME, { [store.kind]: () => store.ready() }));
  // Only the system's own exporters may post spans and logs: forged spans never reach a waterfall.
  app.post(['/v1/traces', '/v1/logs'], requireServiceToken(serviceToken));
  app.use(otlpRouter({ store, logger, limits, gate: createIngestGate(limits) }));
  app.use(traceRouter(store, access));
  sealServiceApp(app, logger);
  return {
    app,
    start: () => store.start(),
    close: () => store.close(),
  };
}
