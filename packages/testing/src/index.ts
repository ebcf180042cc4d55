import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { createDb, ensureDatabase, type Db } from '@ca/postgres';
import { headersToRecord, startMockBroker, type MockBroker } from '@ca/kafka';

// Test fixtures read the runner's environment (scripts/run-tests.ts sets KAFKA_BROKERS); product code never does.
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/comm_aggregator_test';

/** A fresh PostgreSQL schema for one test; dropped by cleanup(). */
export async function testSchema(prefix = 't'): Promise<{ db: Db; schema: string; url: string; cleanup(): Promise<void> }> {
  await ensureDatabase(TEST_DATABASE_URL);
  const schema = `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const db = createDb({ url: TEST_DATABASE_URL, schema, pool: { min: 0, max: 10 } });
  await db.raw('CREATE SCHEMA IF NOT EXISTS ??', [schema]);
  return {
    db,
    schema,
    url: TEST_DATABASE_URL,
    async cleanup() {
      await db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
      await db.destroy();
    },
  };
}

let shared: Promise<MockBroker> | null = null;

/** The broker the test runner started (KAFKA_BROKERS), or a mock broker started for this process. */
export async function testBrokers(): Promise<string[]> {
  if (process.env.KAFKA_BROKERS) return process.env.KAFKA_BROKERS.split(',');
  shared ??= startMockBroker().then((b) => {
    process.once('exit', () => b.process.kill('SIGKILL'));
    b.process.unref();
    // The drained stderr pipe would otherwise keep a finished test process alive.
    (b.process.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    return b;
  });
  return [(await shared).brokers];
}

export function uniquePrefix(): string {
  return `t${randomUUID().slice(0, 8)}.`;
}

export function testKafka(brokers: string[]): Kafka {
  return new Kafka({ clientId: `test-${randomUUID().slice(0, 6)}`, brokers, logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100 } });
}

export interface TopicReader {
  records: Array<{ topic: string; key: string | null; value: string; headers: Record<string, string> }>;
  stop(): Promise<void>;
}

/** Collects every record published to `topics` (from the beginning) into memory. */
export async function readTopics(kafka: Kafka, topics: string[]): Promise<TopicReader> {
  const consumer: Consumer = kafka.consumer({ groupId: `reader-${randomUUID()}`, sessionTimeout: 6000, heartbeatInterval: 500 });
  const records: TopicReader['records'] = [];
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      records.push({ topic, key: message.key?.toString() ?? null, value: message.value?.toString() ?? '', headers: headersToRecord(message.headers) });
    },
  });
  return { records, stop: () => consumer.disconnect() };
}


/** A clock tests move by hand. */
export function manualClock(start = new Date('2026-01-01T00:00:00Z')) {
  let t = start.getTime();
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
  };
}
export { freePort, startSystem, type SystemOptions } from './system';
export { waitFor } from './wait-for';
export { checkedFetch, createResponseChecker, type DocumentedOperation, type ResponseChecker, type ResponseSample } from './openapi-check';
export { tapResponses } from './response-tap';
export { isWholeTrace, readTrace, type TraceView } from './traces';
