import type { Kafka, Producer } from 'kafkajs';
import { topicsFor, type Channel } from '@ca/contracts';
import { createServiceApp, healthRouter, requireServiceToken, sealServiceApp } from '@ca/http';
import type { Db } from '@ca/postgres';
import type { Logger } from '@ca/telemetry';
import type { Providers } from './providers/provider';
import { createMessageStore } from './store/message-store';
import { createDeadLetterPublisher } from './dead-letter/dead-letter-publisher';
import { createDeliveryWorker, type DeliveryPolicy } from './worker/delivery-worker';
import { createChannelConsumers } from './worker/channel-consumers';
import { createRetryScheduler } from './retry/retry-scheduler';
import { statusRoutes } from './api/status-routes';

export interface DeliveryServiceDeps {
  db: Db;
  kafka: Kafka;
  producer: Producer;
  providers: Providers;
  logger: Logger;
  clock: { now(): Date };
  random: () => number;
  settings: {
    workerId: string;
    topicPrefix: string;
    channels: readonly Channel[];
    policy: DeliveryPolicy;
    consumer: { sessionTimeoutMs: number; heartbeatIntervalMs: number; partitionsConsumedConcurrently: number; maxWaitTimeMs: number };
    scheduler: { pollMs: number; batchSize: number };
    /** SERVICE_TOKEN: /internal answers only callers presenting it (null: open). */
    serviceToken?: string | null;
  };
}

/** Builds delivery-service from its deps; main.ts owns the process, tests own their deps. */
export function buildDeliveryService(deps: DeliveryServiceDeps) {
  const { db, kafka, producer, logger, clock, settings } = deps;
  const topics = topicsFor(settings.topicPrefix);
  const store = createMessageStore(db);
  const worker = createDeliveryWorker({
    store,
    providers: deps.providers,
    deadLetters: createDeadLetterPublisher(producer, topics.deadLetter),
    policy: settings.policy,
    clock,
    random: deps.random,
    logger,
    workerId: settings.workerId,
  });
  const consumers = createChannelConsumers({ kafka, worker, topics, topicPrefix: settings.topicPrefix, channels: settings.channels, ...settings.consumer, logger });
  const scheduler = createRetryScheduler({ store, producer, topics, clock, logger, ...settings.scheduler, graceMs: settings.policy.leaseMs });

  const app = createServiceApp();
  app.use(healthRouter('delivery-service', {
    postgres: async () => { await db.raw('select 1'); },
  }));
  app.use('/internal', requireServiceToken(settings.serviceToken ?? null));
  app.use(statusRoutes(store));
  sealServiceApp(app, logger);

  return {
    app,
    worker,
    scheduler,
    store,
    async start(): Promise<void> {
      await consumers.start();
      scheduler.start();
    },
    /** Stop intake first (consumers), then the scheduler; the caller closes producer and db. */
    async stop(): Promise<void> {
      await consumers.stop();
      await scheduler.stop();
    },
  };
}

export type DeliveryService = ReturnType<typeof buildDeliveryService>;
