import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { deliveryGroupId, PRIORITIES, type Channel, type Priority, type Topics } from '@ca/contracts';
import { headersToRecord } from '@ca/kafka';
import type { Logger } from '@ca/telemetry';
import type { DeliveryWorker } from './delivery-worker';
import { runKeyOrderedBatch } from './key-ordered-batch';
import type { LaneGate } from './lane-gate';
import { createRecordPipeline } from './record-pipeline';

export interface ChannelConsumersDeps {
  kafka: Kafka;
  worker: DeliveryWorker;
  topics: Topics;
  topicPrefix: string;
  channels: readonly Channel[];
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  partitionsConsumedConcurrently: number;
  /** Records of one partition in flight at once (different keys); one key is always one at a time. */
  keyConcurrency: number;
  /** Longest a fetch waits for data. Real Kafka answers as soon as data arrives; some brokers hold the full wait. */
  maxWaitTimeMs: number;
  /** LOW yields to HIGH on this process (lane-gate.ts). */
  laneGate: LaneGate;
  logger: Logger;
}

/**
 * One consumer group per channel and priority lane: delivery.<channel> reads the medium lane
 * (send.<channel>) and the retry topic, delivery.<channel>.high and delivery.<channel>.low their
 * own lanes. A slow or failing channel never holds the others back, and a LOW backlog never holds a
 * HIGH message back: each lane fetches and runs its batches on its own.
 * Each fetched batch runs with per-key order and cross-key concurrency; the committed offset never
 * passes the oldest unfinished record (at-least-once); the worker makes the effect exactly-once.
 */
export function createChannelConsumers(deps: ChannelConsumersDeps) {
  const consumers: Consumer[] = [];
  const stops: Array<() => Promise<void>> = [];
  let joined = 0;

  async function startLane(channel: Channel, lane: Priority): Promise<void> {
    const groupId = deliveryGroupId(deps.topicPrefix, channel, lane);
    // HIGH runs its records through a pipeline that does not hold the next fetch back (see
    // record-pipeline.ts) and commits offsets itself.
    const pipelined = lane === 'high';
    const consumer = deps.kafka.consumer({
      groupId,
      sessionTimeout: deps.sessionTimeoutMs,
      heartbeatInterval: deps.heartbeatIntervalMs,
      allowAutoTopicCreation: true,
      maxWaitTimeInMs: deps.maxWaitTimeMs,
    });
    consumers.push(consumer);
    const groupJoined = new Promise<void>((resolve) => {
      const off = consumer.on(consumer.events.GROUP_JOIN, () => { off(); resolve(); });
    });
    await consumer.connect();
    const topics = lane === 'medium' ? [deps.topics.send(channel), deps.topics.retry(channel)] : [deps.topics.lane(channel, lane)];
    await consumer.subscribe({ topics, fromBeginning: true });
    const handle = async (batch: { topic: string; partition: number }, message: KafkaMessage) => {
      const work = async () => {
        await deps.worker.handle(channel, { topic: batch.topic, value: message.value, headers: headersToRecord(message.headers) }, batch.partition);
      };
      if (lane === 'high') return deps.laneGate.high(work);
      if (lane === 'low') await deps.laneGate.lowMayStart();
      return work();
    };
    if (pipelined) {
      const pipeline = createRecordPipeline<{ offset: string; key: string | null; message: KafkaMessage }>({
        concurrency: deps.keyConcurrency * deps.partitionsConsumedConcurrently,
        handle: (record, where) => handle(where, record.message),
        commit: (offsets) => consumer.commitOffsets(offsets),
        retryDelayMs: (failures) => Math.min(30_000, 500 * 2 ** (failures - 1)),
        logger: deps.logger,
      });
      // A new generation re-reads the committed offsets: positions from before it no longer count.
      consumer.on(consumer.events.GROUP_JOIN, () => pipeline.reset());
      stops.push(async () => {
        consumer.pause(topics.map((topic) => ({ topic })));
        await pipeline.stop();
      });
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: deps.partitionsConsumedConcurrently,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          const records = batch.messages.map((m) => ({ offset: m.offset, key: m.key?.toString('utf8') ?? null, message: m }));
          await pipeline.dispatch({ topic: batch.topic, partition: batch.partition, records }, {
            resolveOffset, heartbeat, shouldContinue: () => isRunning() && !isStale(),
          });
        },
      });
    } else {
      await consumer.run({
        partitionsConsumedConcurrently: lane === 'low' ? 1 : deps.partitionsConsumedConcurrently,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          const items = batch.messages.map((m) => ({ offset: m.offset, key: m.key?.toString('utf8') ?? null, message: m }));
          await runKeyOrderedBatch(items, {
            // LOW keeps a quarter of the in-flight records of the other lanes: a backlog then cannot
            // fill the PostgreSQL pool and the provider's intake that HIGH records need too.
            concurrency: lane === 'low' ? Math.max(1, Math.floor(deps.keyConcurrency / 4)) : deps.keyConcurrency,
            handle: ({ message }) => handle(batch, message),
            resolveOffset,
            shouldContinue: () => isRunning() && !isStale(),
            heartbeat,
          });
        },
      });
    }
    await groupJoined;
    joined++;
    deps.logger.info('consuming', { channel, lane, groupId });
  }

  return {
    /** Joins every channel's and lane's group at once (each join waits out a dead member's session on its own). */
    async start(): Promise<void> {
      await Promise.all(deps.channels.flatMap((channel) => PRIORITIES.map((lane) => startLane(channel, lane))));
    },
    /** True once every lane's consumer has joined its group at least once. */
    ready(): boolean {
      return joined === deps.channels.length * PRIORITIES.length;
    },
    /** Leaves the groups after in-flight handlers finish; uncommitted records are redelivered. */
    async stop(): Promise<void> {
      // Pipelined lanes first let their records in flight finish and commit, still in the group.
      await Promise.allSettled(stops.map((stop) => stop()));
      await Promise.allSettled(consumers.map((c) => c.disconnect()));
      consumers.length = 0;
      stops.length = 0;
    },
  };
}
