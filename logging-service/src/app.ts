import type { Express } from 'express';
import { apiReferenceRouter, createServiceApp, healthRouter, requireServiceToken, sealServiceApp } from '@ca/http';
import { createIngestMetrics, metricsRoute, type MetricsSetup } from '@ca/metrics';
import type { Logger } from '@ca/telemetry';
import { FAULT, createFaults, faultsAdminRouter, unavailableWhileDown, type Faults } from '@ca/faults';
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
  /** Injected faults (README "Failure scenarios"): logging.down; switchable through /admin/faults. */
  faults?: Faults;
  /** ADMIN_TOKEN: /admin/faults answers only bearers of it (null: the route does not exist). */
  adminToken?: string | null;
  /** GET /metrics (main.ts); absent: ingest counters record to the global meter, no route. */
  metrics?: MetricsSetup;
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
  faults = createFaults(),
  adminToken = null,
  metrics,
}: LoggingServiceDeps): LoggingService {
  // APM Server's aggregated metrics (metrics-apm.*.1m), written through the same store.
  const aggregator = createApmAggregator({ write: (docs) => store.write(docs), clock, logger });
  const app = createServiceApp();
  app.use(healthRouter(SERVICE_NAME, { [store.kind]: () => store.ready() }));
  if (metrics) app.use(metricsRoute(metrics.prometheus, { token: metrics.token }));
  // Only the system's own exporters may post spans and logs: forged spans never reach a waterfall.
  app.post(['/v1/traces', '/v1/logs'], requireServiceToken(serviceToken));
  app.post(['/v1/traces', '/v1/logs'], unavailableWhileDown(faults));
  app.use(faultsAdminRouter({ faults, token: adminToken, logger, supported: [FAULT.loggingDown] }));
  app.use(otlpRouter({ store, logger, limits, gate: createIngestGate(limits), onStored: (docs) => aggregator.observe(docs), metrics: createIngestMetrics({ meter: metrics?.meter }) }));
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
