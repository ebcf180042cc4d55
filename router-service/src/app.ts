import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import type { Knex } from 'knex';
import type { Kafka, Producer } from 'kafkajs';
import { topicsFor } from '@ca/contracts';
import { CheckFailed, apiReferenceRouter, createServiceApp, healthRouter, sealServiceApp } from '@ca/http';
import { FAULT, createFaults, faultsAdminRouter, withPublishFaults, withQueryLatency, type Faults } from '@ca/faults';
import { createRouterMetrics, metricsRoute, observeOutbox, type MetricsSetup } from '@ca/metrics';
import { createOutboxRelay, oldestDueOutboxRow, outboxBacklog, type OutboxRelay } from '@ca/outbox';
import type { Logger } from '@ca/telemetry';
import type { Clock } from './clock';
import type { RouterSettings } from './config';
import { authenticate, requireScope } from './auth/authenticate';
import { introspectRouter } from './auth/introspect-router';
import { pruneExpired } from './housekeeping/prune-expired';
import type { Fetch } from './messages/delivery-client';
import { graphqlRouter } from './graphql/graphql-router';
import { messagesRouter } from './messages/messages-router';
import { createStatusProjection, type StatusProjection } from './messages/status-projection';
import { providersRouter } from './providers/providers-router';
import { routerOpenApiDocument } from './openapi/router-openapi';
import { apiRateLimit } from './ratelimit/api-key-rate-limit';
import { userRatePolicyRouter } from './ratelimit/user-rate-policy-router';
import { notificationsRouter } from './notifications/notifications-router';
import { keysRouter } from './tenants/keys-router';
import { templatesRouter } from './templates/templates-router';
import { usersRouter } from './users/users-router';
import { requestTrace } from './tracing/request-trace';
import { campaignsRouter } from './campaigns/campaigns-router';
import { dashboardRouter } from './dashboard/dashboard-router';
import { createCampaignDispatcher, type CampaignDispatcher } from './campaigns/campaign-dispatcher';
import { consoleStatic } from './console/console-static';
import { sessionRouter } from './console/session-router';
import { httpsOnly } from './transport/https-only';
import { webhooksRouter } from './webhooks/webhooks-router';
import { createWebhookSender, type WebhookSender } from './webhooks/webhook-sender';

export interface RouterServiceDeps {
  db: Knex;
  /** kafkajs producer for the outbox relay; it may be disconnected (the relay connects and retries). */
  producer: Producer;
  /** For the status projection's consumer (GET /v1/messages filters by status); absent: statuses in listings stay `pending`. */
  kafka?: Kafka;
  settings: RouterSettings;
  logger: Logger;
  clock: Clock;
  fetch?: Fetch;
  newId?: () => string;
  /** Jitter of the relay's backoff. */
  random?: () => number;
  /** Injected faults (README "Failure scenarios"); default: none, switchable through /admin/faults. */
  faults?: Faults;
  /** GET /metrics and the outbox gauges (main.ts); absent: instruments record to the global meter, no route. */
  metrics?: MetricsSetup;
}

export interface RouterService {
  app: Express;
  relay: OutboxRelay;
  dispatcher: CampaignDispatcher;
  /** Starts the outbox relay, the status projection and the periodic pruning of expired dedup/idempotency/rate rows. */
  start(): void;
  /** Stops background work (waits for the relay's in-flight batch). Does not close db or producer: the caller owns them. */
  close(): Promise<void>;
}

const PRUNE_EVERY_MS = 60_000;

export function buildRouterService(deps: RouterServiceDeps): RouterService {
  const { settings, logger, clock } = deps;
  // Fault injection decorates the boundaries (database, producer); the units inside never know.
  const faults = deps.faults ?? createFaults();
  const db = withQueryLatency(deps.db, faults);
  const producer = withPublishFaults(deps.producer, faults, deps.random ?? Math.random);
  const relay = createOutboxRelay({ db, producer, logger, clock, random: deps.random ?? Math.random, pollMs: settings.outboxPollMs, batchSize: settings.outboxBatchSize, lowYield: settings.outboxLowYield });

  const projection: StatusProjection | null = deps.kafka
    ? createStatusProjection({ kafka: deps.kafka, db, topics: topicsFor(settings.topicPrefix), topicPrefix: settings.topicPrefix, logger, clock, onEnqueued: () => relay.kick() })
    : null;
  const webhookSender: WebhookSender | null = deps.kafka
    ? createWebhookSender({
      kafka: deps.kafka, db, topics: topicsFor(settings.topicPrefix), topicPrefix: settings.topicPrefix, logger, clock,
      random: deps.random ?? Math.random, settings: settings.webhooks, onEnqueued: () => relay.kick(),
    })
    : null;
  const dispatcher = createCampaignDispatcher({
    db, clock, logger, topics: topicsFor(settings.topicPrefix), fetch: deps.fetch ?? globalThis.fetch, onEnqueued: () => relay.kick(),
    settings: { ...settings.campaigns, deliveryUrl: settings.deliveryUrl, deliveryTimeoutMs: settings.deliveryTimeoutMs, serviceToken: settings.serviceToken },
  });
  const metrics = createRouterMetrics({ meter: deps.metrics?.meter, tenantLabelLimit: deps.metrics?.tenantLabelLimit });
  let outboxGauges: { close(): void } | null = null;

  const app = createServiceApp();
  // Only these peers may tell us the original scheme/client (X-Forwarded-Proto/-For): see https-only.ts.
  app.set('trust proxy', settings.trustProxy);
  app.use(healthRouter('router-service', {
    database: async () => { await db.raw('select 1'); },
    // Kafka being down is not "not ready": accepted messages are durable in the outbox. An outbox
    // that stopped draining (Kafka down for long, relay stuck) is, because messages stop moving.
    outbox: async () => {
      if (settings.outboxStuckSeconds === 0) return;
      const oldest = await oldestDueOutboxRow(db, clock.now());
      const ageSeconds = oldest ? (clock.now().getTime() - oldest.getTime()) / 1000 : 0;
      if (ageSeconds > settings.outboxStuckSeconds) throw new CheckFailed(`oldest unpublished message is ${Math.round(ageSeconds)} s old`);
    },
  }));
  if (deps.metrics) app.use(metricsRoute(deps.metrics.prometheus, { token: deps.metrics.token }));
  app.use(requestTrace());
  app.use(introspectRouter({ db, clock, serviceToken: settings.serviceToken }));
  // After the health probes (plain HTTP inside a cluster), before anything that reads a key or a body.
  app.use(httpsOnly(settings.transport));
  // GET /openapi.json and /docs: the public contract, readable without a key.
  app.use(apiReferenceRouter(routerOpenApiDocument()));
  app.use('/console', consoleStatic(settings.console.dir));
  // The console's sign-in: before authentication, it is how a browser gets its session.
  app.use('/v1/session', sessionRouter({ db, clock, logger, ttlSeconds: settings.console.sessionTtlSeconds }));
  app.use(faultsAdminRouter({ faults, token: settings.adminToken, logger, supported: [FAULT.brokerPublishFailure, FAULT.postgresLatency] }));
  // Every /v1 route needs an API key; the token bucket is per key, so it runs after authentication.
  app.use('/v1', authenticate({ db, clock, cacheMs: settings.apiKeyCacheMs }), apiRateLimit({ db, clock, settings: settings.apiRateLimit }));
  app.use('/v1/keys', requireScope('admin'), keysRouter({ db, clock, logger }));
  app.use('/v1/webhooks', requireScope('admin'), webhooksRouter({ db, clock, logger, policy: settings.webhooks }));
  app.use('/v1/messages', messagesRouter({
    accept: { db, clock, logger, topics: topicsFor(settings.topicPrefix), newId: deps.newId ?? randomUUID, settings },
    status: { db, fetch: deps.fetch ?? globalThis.fetch, settings, clock },
    cancel: { db, fetch: deps.fetch ?? globalThis.fetch, clock, logger, settings },
    bodyLimit: settings.bodyLimit,
    batchBodyLimit: settings.batchBodyLimit,
    batchMaxItems: settings.batchMaxItems,
    onAccepted: (accepted) => {
      relay.kick({ urgent: accepted.priority === 'high' });
      metrics.recordAccepted(accepted);
    },
  }));
  app.use('/v1/users', usersRouter({
    db, clock, logger, bodyLimit: settings.bodyLimit,
    delivery: { fetch: deps.fetch ?? globalThis.fetch, deliveryUrl: settings.deliveryUrl, timeoutMs: settings.deliveryTimeoutMs, serviceToken: settings.serviceToken },
  }));
  app.use('/v1/templates', templatesRouter({ db, clock, logger, bodyLimit: settings.bodyLimit }));
  app.use('/v1/notifications', notificationsRouter({
    accept: { db, clock, logger, topics: topicsFor(settings.topicPrefix), newId: deps.newId ?? randomUUID, settings },
    status: { db, fetch: deps.fetch ?? globalThis.fetch, settings },
    bodyLimit: settings.bodyLimit,
    onAccepted: (accepted) => { relay.kick({ urgent: accepted.priority === 'high' }); metrics.recordAccepted(accepted); },
  }));
  app.use('/v1/rate-policies', requireScope('read'), userRatePolicyRouter({ db, defaults: settings.userRateLimit }));
  app.use('/graphql', authenticate({ db, clock, cacheMs: settings.apiKeyCacheMs }), apiRateLimit({ db, clock, settings: settings.apiRateLimit }), graphqlRouter({
    send: { accept: { db, clock, logger, topics: topicsFor(settings.topicPrefix), newId: deps.newId ?? randomUUID, settings }, onAccepted: (accepted) => { relay.kick({ urgent: accepted.priority === 'high' }); metrics.recordAccepted(accepted); } },
    status: { db, fetch: deps.fetch ?? globalThis.fetch, settings, clock }, logger, bodyLimit: settings.bodyLimit, limits: settings.graphqlLimits,
    cancel: { db, fetch: deps.fetch ?? globalThis.fetch, clock, logger, settings },
  }));
  app.use('/v1', providersRouter({ fetch: deps.fetch ?? globalThis.fetch, settings }));
  app.use('/v1/campaigns', campaignsRouter({ db, clock, logger, settings: { traceViewUrl: settings.traceViewUrl, kibanaUrl: settings.kibanaUrl }, onStarted: () => dispatcher.kick() }));
  app.use('/v1/dashboard', dashboardRouter({ fetch: deps.fetch ?? globalThis.fetch, clock, logger, settings }));
  sealServiceApp(app, logger);

  let pruneTimer: NodeJS.Timeout | null = null;
  return {
    app,
    relay,
    dispatcher,
    start() {
      relay.start();
      projection?.start();
      webhookSender?.start();
      dispatcher.start();
      const setup = deps.metrics;
      if (setup && !outboxGauges) {
        outboxGauges = observeOutbox({
          meter: setup.meter, minIntervalMs: setup.pollMs, read: () => outboxBacklog(db, clock.now()),
          onError: (err) => logger.debug('outbox gauges: read failed', { error: (err as Error).message }),
        });
      }
      pruneTimer ??= setInterval(() => {
        pruneExpired(db, clock.now()).catch((err: unknown) => logger.warn('pruning expired rows failed', { error: (err as Error).message }));
      }, PRUNE_EVERY_MS);
      pruneTimer.unref();
    },
    async close() {
      outboxGauges?.close();
      outboxGauges = null;
      if (pruneTimer) clearInterval(pruneTimer);
      pruneTimer = null;
      await dispatcher.stop();
      await Promise.all([relay.stop(), projection?.stop(), webhookSender?.stop()]);
    },
  };
}
