import type { Consumer, Kafka } from 'kafkajs';
import { deliveryGroupId, type Channel, type Topics } from '@ca/contracts';
import { headersToRecord } from '@ca/kafka';
import type { Logger } from '@ca/telemetry';
import type { DeliveryWorker } from './delivery-worker';

export interface ChannelConsumersDeps {
  kafka: Kafka;
  worker: DeliveryWorker;
  topics: Topics;
  topicPrefix: string;
  channels: readonly Channel[];
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  partitionsConsumedConcurrently: number;
  /** Longest a fetch waits for data. Real Kafka answers as soon as data arrives; some brokers hold the full wait. */
  maxWaitTimeMs: number;
  logger: Logger;
}

/**
 * One consumer group per channel (delivery.<channel>) reading the channel's send and retry
 * topics, so a slow or failing channel never holds the others back and each scales on its own.
 * Offsets are committed only after the handler resolved (at-least-once); the worker makes the
 * effect exactly-once.
 */
export function createChannelConsumers(deps: ChannelConsumersDeps) {
  const consumers: Consumer[] = [];
  return {
    async start(): Promise<void> {
      for (const channel of deps.channels) {
        const consumer = deps.kafka.consumer({
          groupId: deliveryGroupId(deps.topicPrefix, channel),
          sessionTimeout: deps.sessionTimeoutMs,
          heartbeatInterval: deps.heartbeatIntervalMs,
          allowAutoTopicCreation: true,
          maxWaitTimeInMs: deps.maxWaitTimeMs,
        });
        consumers.push(consumer);
        await consumer.connect();
        await consumer.subscribe({ topics: [deps.topics.send(channel), deps.topics.retry(channel)], fromBeginning: true });
        await consumer.run({
          partitionsConsumedConcurrently: deps.partitionsConsumedConcurrently,
          eachMessage: async ({ topic, message }) => {
            await deps.worker.handle(channel, { topic, value: message.value, headers: headersToRecord(message.headers) });
          },
        });
        deps.logger.info('consuming', { channel, groupId: deliveryGroupId(deps.topicPrefix, channel) });
      }
    },
    /** Leaves the groups after in-flight handlers finish; uncommitted records are redelivered. */
    async stop(): Promise<void> {
      await Promise.allSettled(consumers.map((c) => c.disconnect()));
      consumers.length = 0;
    },
  };
}
