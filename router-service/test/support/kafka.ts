import { after, before } from 'node:test';
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import { createDurableProducer, createKafka, headersToRecord, startMockBroker, type MockBroker } from '@ca/kafka';

/** Registers file-level hooks: the runner's KAFKA_BROKERS, else a mock broker for this file. */
export function useBroker(): () => string {
  let broker: MockBroker | undefined;
  let brokers = process.env.KAFKA_BROKERS ?? '';
  before(async () => {
    if (brokers) return;
    broker = await startMockBroker();
    brokers = broker.brokers;
  });
  after(async () => { await broker?.stop(); });
  return () => brokers;
}

/** A producer with short timeouts, so tests never wait on kafkajs' default retries. */
export function testProducer(brokers: string, opts: { retries?: number } = {}): Producer {
  if (opts.retries !== undefined) {
    const kafka = new Kafka({
      clientId: 'router-test', brokers: brokers.split(','), connectionTimeout: 500, requestTimeout: 2000,
      retry: { retries: opts.retries, initialRetryTime: 100, maxRetryTime: 500 }, logLevel: logLevel.NOTHING,
    });
    return kafka.producer({ allowAutoTopicCreation: true, idempotent: false });
  }
  return createDurableProducer(createKafka({ brokers: brokers.split(','), clientId: 'router-test', connectionTimeoutMs: 1000, requestTimeoutMs: 3000 }));
}

export interface ReadRecord {
  topic: string;
  key: string | null;
  value: string;
  headers: Record<string, string>;
  /** The record's Kafka timestamp (the producer's create time, ms). */
  timestamp: number;
}

/**
 * Reads records from the start of `topics` until `count` arrived or the deadline passed; with
 * settleMs it keeps reading that long after `count`, so a test can see records that should not exist.
 */
export async function readRecords(brokers: string, topics: string[], count: number, opts: { timeoutMs?: number; settleMs?: number } = {}): Promise<ReadRecord[]> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const kafka = new Kafka({ clientId: 'router-test-reader', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `test-${randomUUID()}`, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      void consumer.run({
        eachMessage: async ({ topic, message }) => {
          records.push({ topic, key: message.key?.toString() ?? null, value: message.value?.toString() ?? '', headers: headersToRecord(message.headers), timestamp: Number(message.timestamp) });
          if (records.length === count) {
            clearTimeout(timer);
            setTimeout(resolve, opts.settleMs ?? 0);
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}
