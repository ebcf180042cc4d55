import type { Express } from 'express';
import { apiReferenceRouter, createServiceApp, healthRouter, requireServiceToken, sealServiceApp } from '@ca/http';
import type { Logger } from '@ca/telemetry';
import { createApmAggregator, type Clock } from './aggregate/apm-aggregator';
import { createIngestGate } from './ingest/ingest-gate';
import { otlpRouter, type IngestLimits } from './ingest/otlp-router';
import { loggingOpenApiDocument } from './openapi/logging-openapi';
import type { Store } from './sinks/store';
import { traceRouter, type TraceAccess } from './traces/trace-router';

export const SERVICE_NAME = 'logging-service';

export interface LoggingServiceDeps {
  /** Elasticsearch or PostgreSQL (or a test double). */
  store: Store;
  logger: Logger;
  limits: IngestLimits;
  /** Drives the 1-minute APM metric intervals (default: the system clock). */
  clock?: Clock;
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

export function buildLoggingService({
  store,
  logger,
  limits,
  clock = { now: () => new Date() },
  serviceToken = null,
  access,
}: LoggingServiceDeps): LoggingService {
  // APM Server's aggregated metrics (metrics-apm.*.1m), written through the same store.
  const aggregator = createApmAggregator({ write: (docs) => store.write(docs), clock, logger });
  const app = createServiceApp();
  app.use(healthRouter(SERVICE_NAME, { [store.kind]: () => store.ready() }));
  // Only the system's own exporters may post spans and logs: forged spans never reach a waterfall.
  app.post(['/v1/traces', '/v1/logs'], requireServiceToken(serviceToken));
  app.use(otlpRouter({ store, logger, limits, gate: createIngestGate(limits), onStored: (docs) => aggregator.observe(docs) }));
  app.use(traceRouter(store, access));
  // GET /openapi.json and /docs: this service's contract (logging-service/openapi/openapi.yaml).
  app.use(apiReferenceRouter(loggingOpenApiDocument()));
  sealServiceApp(app, logger);
  return {
    app,
    start: async () => {
      await store.start();
      aggregator.start();
    },
    close: async () => {
      await aggregator.close(); // the open interval's metrics, before the store goes
      await store.close();
    },
  };
}
