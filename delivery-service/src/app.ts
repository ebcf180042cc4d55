import type { Kafka, Producer } from 'kafkajs';
import { CHANNELS, deliveryGroupId, topicsFor, type Channel } from '@ca/contracts';
import { CheckFailed, createServiceApp, healthRouter, requireServiceToken, sealServiceApp } from '@ca/http';
import { FAULT, createFaults, faultsAdminRouter, withPublishFaults, withQueryLatency, type Faults } from '@ca/faults';
import { createDeliveryMetrics, metricsRoute, observeConsumerLag, observeOutbox, type ConsumerLag, type MetricsSetup } from '@ca/metrics';
import { createOutboxRelay, outboxBacklog } from '@ca/outbox';
import type { Db } from '@ca/postgres';
import type { Logger } from '@ca/telemetry';
import type { Providers } from './providers/provider';
import { createMessageStore } from './store/message-store';
import { createDeliveryWorker, DEFAULT_BREAKER, type DeliveryPolicy } from './worker/delivery-worker';
import { createChannelConsumers } from './worker/channel-consumers';
import { createLaneGate } from './worker/lane-gate';
import { statusRoutes } from './api/status-routes';
import { statsRoutes } from './api/stats-routes';
import { erasureRoutes } from './api/erasure-routes';
import { providerRoutes } from './api/provider-routes';
import { deadLetterRoutes } from './api/dead-letter-routes';
import { createDeadLetterStore } from './store/dead-letters';
import { createCredentialCipher } from './routing/credential-cipher';
import { createProviderConfigStore } from './routing/provider-configs';
import type { BreakerSettings } from './routing/circuit-breakers';
import { DEFAULT_HEALTH } from './routing/provider-health';
import { createSuppressionStore } from './store/suppressions';
import { withProviderFaults } from './providers/with-faults';
import { createReceiptStore } from './receipts/receipt-store';
import { receiptRoutes } from './receipts/receipt-routes';

export interface DeliveryServiceDeps {
  db: Db;
  kafka: Kafka;
  /** Used only by the outbox relay; it may be disconnected (the relay connects and retries). */
  producer: Producer;
  providers: Providers;
  logger: Logger;
  clock: { now(): Date };
  random: () => number;
  /** Tenant provider routes (README "Providers"): credentials key, circuit breakers, health. Absent: defaults, no credentials key. */
  providerRouting?: { credentialsKey: string | null; breaker: BreakerSettings; cacheMs: number; slowMs: number };
  /** Injected faults (README "Failure scenarios"); default: none, switchable through /admin/faults. */
  faults?: Faults;
  settings: {
    workerId: string;
    topicPrefix: string;
    channels: readonly Channel[];
    policy: DeliveryPolicy;
    /** lowYieldMs / lowMaxHoldMs: LOW yields to HIGH (worker/lane-gate.ts); absent: 0, off. */
    consumer: { sessionTimeoutMs: number; heartbeatIntervalMs: number; partitionsConsumedConcurrently: number; keyConcurrency: number; maxWaitTimeMs: number; lowYieldMs?: number; lowMaxHoldMs?: number };
    outbox: { pollMs: number; batchSize: number };
    /** SERVICE_TOKEN: /internal answers only callers presenting it (null: open). */
    serviceToken?: string | null;
    /** ADMIN_TOKEN: /admin/faults answers only bearers of it (null: the route does not exist). */
    adminToken?: string | null;
    /**
     * Delivery receipts (docs/webhooks.md "Receipts"): publicUrl is PUBLIC_URL, the base providers
     * call back (null: no provider is asked for receipts); simSecret is SIM_RECEIPT_SECRET.
     */
    receipts?: { publicUrl: string | null; simSecret: string | null };
  };
  /** GET /metrics, outbox gauges and consumer lag (main.ts); absent: instruments record to the global meter, no route. */
  metrics?: MetricsSetup;
}

/** Builds delivery-service from its deps; main.ts owns the process, tests own their deps. */
export function buildDeliveryService(deps: DeliveryServiceDeps) {
  const { kafka, logger, clock, settings } = deps;
  // Fault injection decorates the boundaries (database, producer, providers); the units inside never know.
  const faults = deps.faults ?? createFaults();
  const db = withQueryLatency(deps.db, faults);
  const producer = withPublishFaults(deps.producer, faults, deps.random);
  const topics = topicsFor(settings.topicPrefix);
  const receipts = createReceiptStore(db, topics);
  const publicUrl = settings.receipts?.publicUrl?.replace(/\/+$/, '') ?? null;
  // No receipt endpoint is open without PUBLIC_URL (Twilio) or SIM_RECEIPT_SECRET: no early receipt
  // can exist, so the attempt's commit skips the lock and the lookup.
  const receiptsOpen = publicUrl !== null || Boolean(settings.receipts?.simSecret);
  const store = createMessageStore(db, receiptsOpen ? { afterSent: (trx, sent, now) => receipts.applyEarly(trx, sent, now) } : {});
  const cipher = deps.providerRouting?.credentialsKey ? createCredentialCipher(deps.providerRouting.credentialsKey) : null;
  const providerConfigs = createProviderConfigStore(db, cipher);
  const suppressions = createSuppressionStore(db);
  const relay = createOutboxRelay({ db, producer, logger, clock, random: deps.random, ...settings.outbox });
  const worker = createDeliveryWorker({
    store,
    providers: withProviderFaults(deps.providers, faults, deps.random),
    topics,
    policy: settings.policy,
    clock,
    random: deps.random,
    logger,
    workerId: settings.workerId,
    maxBatch: 100,
    onEnqueued: () => relay.kick(),
    routing: {
      configs: providerConfigs,
      cipher,
      breaker: deps.providerRouting?.breaker ?? DEFAULT_BREAKER,
      health: { ...DEFAULT_HEALTH, slowMs: deps.providerRouting?.slowMs ?? DEFAULT_HEALTH.slowMs },
      cacheMs: deps.providerRouting?.cacheMs ?? 5_000,
    },
    suppressions,
    receiptsUrl: publicUrl ? `${publicUrl}/v1/receipts` : null,
    metrics: createDeliveryMetrics({ meter: deps.metrics?.meter, tenantLabelLimit: deps.metrics?.tenantLabelLimit }),
  });
  const laneGate = createLaneGate({ quietMs: settings.consumer.lowYieldMs ?? 0, maxHoldMs: settings.consumer.lowMaxHoldMs ?? 2_000 });
  const consumers = createChannelConsumers({ kafka, worker, topics, topicPrefix: settings.topicPrefix, channels: settings.channels, ...settings.consumer, laneGate, logger });

  const app = createServiceApp();
  // /health answers as soon as the process listens (liveness); /ready also needs every channel's
  // consumer to have joined its group, which can take a session timeout after a crash.
  app.use(healthRouter('delivery-service', {
    postgres: async () => { await db.raw('select 1'); },
    consumers: async () => { if (!consumers.ready()) throw new CheckFailed('joining consumer groups'); },
  }));
  if (deps.metrics) app.use(metricsRoute(deps.metrics.prometheus, { token: deps.metrics.token }));
  app.use('/internal', requireServiceToken(settings.serviceToken ?? null));
  app.use(providerRoutes({ configs: providerConfigs, suppressions, routing: worker.routing, clock }));
  app.use(deadLetterRoutes(createDeadLetterStore(db, topics), clock));
  app.use(statusRoutes(store, clock));
  app.use(statsRoutes({ db, defaultProviders: Object.fromEntries(CHANNELS.map((c) => [c, deps.providers[c].name])) as Record<Channel, string> }));
  app.use(receiptRoutes({ db, receipts, cipher, publicUrl, simSecret: settings.receipts?.simSecret ?? null, clock, logger }));
  app.use(erasureRoutes(db));
  app.use(faultsAdminRouter({ faults, token: settings.adminToken ?? null, logger, supported: [FAULT.providerOutage, FAULT.providerLatency, FAULT.brokerPublishFailure, FAULT.postgresLatency] }));
  sealServiceApp(app, logger);

  let observers: { gauges: { close(): void }; lag: ConsumerLag } | null = null;
  function observe(setup: MetricsSetup) {
    const onError = (what: string) => (err: unknown) => logger.debug(`${what}: read failed`, { error: (err as Error).message });
    const lag = observeConsumerLag({
      meter: setup.meter, admin: kafka.admin(), intervalMs: setup.pollMs, onError: onError('consumer lag'),
      groups: settings.channels.map((channel) => ({ groupId: deliveryGroupId(settings.topicPrefix, channel), topics: [topics.send(channel), topics.retry(channel)] })),
    });
    lag.start();
    const gauges = observeOutbox({ meter: setup.meter, minIntervalMs: setup.pollMs, read: () => outboxBacklog(db, clock.now()), onError: onError('outbox gauges') });
    return { gauges, lag };
  }

  return {
    app,
    worker,
    relay,
    store,
    async start(): Promise<void> {
      relay.start();
      await consumers.start();
      // After the groups joined: the lag reader's admin requests stay out of the (re)join.
      if (deps.metrics) observers ??= observe(deps.metrics);
    },
    /** Stop intake first (consumers), then the relay; the caller closes producer and db. */
    async stop(): Promise<void> {
      await consumers.stop();
      await relay.stop();
      worker.routing.close();
      observers?.gauges.close();
      await observers?.lag.stop();
      observers = null;
    },
  };
}

export type DeliveryService = ReturnType<typeof buildDeliveryService>;
