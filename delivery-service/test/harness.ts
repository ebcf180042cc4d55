import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { CHANNELS, HEADERS, recordKey, topicsFor, type Channel, type SendRecord } from '@ca/contracts';
import { createDurableProducer, createKafka } from '@ca/kafka';
import { migrate } from '@ca/postgres';
import { createLogger } from '@ca/telemetry';
import { readTopics, testBrokers, testKafka, testSchema, uniquePrefix } from '@ca/testing';
import { buildDeliveryService } from '../src/app';
import { deliveryMigrations } from '../src/db/migrations';
import { createSimulatedProviders } from '../src/providers/simulated-provider';
import { seededRandom } from '../src/providers/seeded-random';
import type { Providers } from '../src/providers/provider';

export interface HarnessOptions {
  maxAttempts?: number;
  baseMs?: number;
  leaseMs?: number;
  providers?: (defaults: Providers, db: import('@ca/postgres').Db) => Providers;
  clock?: { now(): Date };
  /** Tenant provider routing (credentials key, breakers); default: TEST_CREDENTIALS_KEY and default breakers. */
  providerRouting?: Partial<NonNullable<import('../src/app').DeliveryServiceDeps['providerRouting']>>;
  logger?: import('@ca/telemetry').Logger;
  providerTimeoutMs?: number;
  /** Delivery receipts: PUBLIC_URL is this harness's own URL; simSecret is SIM_RECEIPT_SECRET (default: none). */
  receipts?: { simSecret?: string };
}

/** The PROVIDER_CREDENTIALS_KEY of every harness delivery-service. */
export const TEST_CREDENTIALS_KEY = Buffer.alloc(32, 7).toString('base64');

/** The SERVICE_TOKEN of every harness delivery-service; `SERVICE_AUTH` presents it. */
export const TEST_SERVICE_TOKEN = 'test-service-token-0123456789';
export const SERVICE_AUTH = { authorization: `Bearer ${TEST_SERVICE_TOKEN}` } as const;

/** delivery-service on real PostgreSQL (own schema) and the Kafka-protocol broker (own topic prefix). */
export async function startDelivery(opts: HarnessOptions = {}) {
  const pg = await testSchema('dlv');
  await migrate(pg.db, pg.schema, deliveryMigrations);
  const brokers = await testBrokers();
  const prefix = uniquePrefix();
  const topics = topicsFor(prefix);
  const kafka = createKafka({ brokers, clientId: `delivery-test-${randomUUID().slice(0, 6)}` });
  const producer = createDurableProducer(kafka);
  await producer.connect();
  const clock = opts.clock ?? { now: () => new Date() };
  const logger = opts.logger ?? createLogger({ service: 'delivery-service', level: 'error', silent: true });
  // Listen before building: PUBLIC_URL (the receipts callback base) is this server's own address.
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const defaults = createSimulatedProviders({ db: pg.db, clock, random: seededRandom(1), latencyMs: 0, failureRate: 0 });
  const service = buildDeliveryService({
    db: pg.db,
    kafka,
    producer,
    providers: opts.providers ? opts.providers(defaults, pg.db) : defaults,
    logger,
    clock,
    random: seededRandom(7),
    providerRouting: {
      credentialsKey: TEST_CREDENTIALS_KEY,
      breaker: { errorThresholdPercentage: 50, volumeThreshold: 10, resetTimeoutMs: 30_000, rollingWindowMs: 10_000 },
      cacheMs: 0,
      slowMs: 5_000,
      ...opts.providerRouting,
    },
    settings: {
      workerId: `test-${randomUUID().slice(0, 6)}`,
      topicPrefix: prefix,
      channels: CHANNELS,
      policy: { maxAttempts: opts.maxAttempts ?? 5, backoff: { baseMs: opts.baseMs ?? 100, factor: 2, maxMs: 2000 }, leaseMs: opts.leaseMs ?? 5000, providerTimeoutMs: opts.providerTimeoutMs ?? 2000 },
      consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, partitionsConsumedConcurrently: 2, keyConcurrency: 16, maxWaitTimeMs: 100 },
      outbox: { pollMs: 50, batchSize: 50 },
      serviceToken: TEST_SERVICE_TOKEN,
      ...(opts.receipts ? { receipts: { publicUrl: url, simSecret: opts.receipts.simSecret ?? null } } : {}),
    },
  });
  server.on('request', service.app);
  const reader = testKafka(brokers);

  return {
    db: pg.db,
    service,
    url,
    topics,
    producer,
    reader,
    async startConsuming() {
      await service.start();
    },
    /** Publishes a send record the way router-service's relay does. */
    async send(channel: Channel, to: string, extra: Partial<SendRecord> = {}): Promise<SendRecord> {
      const record: SendRecord = {
        v: 1,
        id: randomUUID(),
        channel,
        to,
        ...(channel === 'email' ? { subject: 'Hello' } : {}),
        body: `body ${randomUUID()}`,
        priority: 'medium',
        createdAt: new Date().toISOString(),
        traceId: randomUUID().replace(/-/g, ''),
        ...extra,
      };
      await producer.send({ topic: topics.send(channel), acks: -1, messages: [{ key: recordKey(channel, to), value: JSON.stringify(record), headers: { [HEADERS.messageId]: record.id } }] });
      return record;
    },
    async readDeadLetters() {
      return readTopics(reader, [topics.deadLetter]);
    },
    async close() {
      server.close();
      await service.stop();
      await producer.disconnect();
      await pg.cleanup();
    },
  };
}

export type Harness = Awaited<ReturnType<typeof startDelivery>>;

/** PUT /internal/v1/tenants/:tenantId/providers/:channel (a tenant's provider route), as router-service calls it. */
export async function putRoute(h: Harness, tenantId: string, channel: string, body: unknown) {
  const res = await fetch(`${h.url}/internal/v1/tenants/${tenantId}/providers/${channel}`, { method: 'PUT', headers: { ...SERVICE_AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function getStatus(h: Harness, id: string) {
  const res = await fetch(`${h.url}/internal/v1/messages/${id}`, { headers: SERVICE_AUTH });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
