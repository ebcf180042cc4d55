import { context } from '@opentelemetry/api';
import type { Producer } from 'kafkajs';
import { ACKS_ALL } from '@ca/kafka';
import { HEADERS, isChannel, recordKey, type SendRecord, type Topics } from '@ca/contracts';
import { contextFromHeaders, type Logger } from '@ca/telemetry';
import type { DueRow, MessageStore } from '../store/message-store';

export interface RetrySchedulerDeps {
  store: MessageStore;
  producer: Producer;
  topics: Topics;
  clock: { now(): Date };
  logger: Logger;
  pollMs: number;
  batchSize: number;
  /** How long a re-published row waits before it may be re-published again (the record is in flight). */
  graceMs: number;
}

/**
 * The durable half of retries: PostgreSQL holds when each message is due; this loop re-publishes
 * due messages to send.<channel>.retry. Nothing waits in process memory after an offset is
 * committed, so a crash loses no retry. It also revives messages whose worker died mid-attempt
 * (their lease ran out). Each record carries the trace context of the attempt it follows, so the
 * retry is a child of that attempt in the same trace.
 */
export function createRetryScheduler(deps: RetrySchedulerDeps) {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = true;

  async function publish(rows: DueRow[]): Promise<void> {
    await Promise.all(
      rows.map((row) => {
        const channel = row.channel;
        if (!isChannel(channel)) throw new Error(`unknown channel ${channel} on message ${row.id}`);
        const record: SendRecord = {
          v: 1,
          id: row.id,
          channel,
          to: row.recipient,
          ...(row.subject !== null ? { subject: row.subject } : {}),
          body: row.body,
          priority: row.priority as SendRecord['priority'],
          ...(row.correlation_id !== null ? { correlationId: row.correlation_id } : {}),
          ...(row.metadata ? { metadata: row.metadata } : {}),
          createdAt: row.created_at.toISOString(),
          traceId: row.trace_id,
        };
        const trace = row.trace_context ?? {};
        return context.with(contextFromHeaders(trace), () =>
          deps.producer.send({
            topic: deps.topics.retry(channel),
            acks: ACKS_ALL,
            messages: [{
              key: recordKey(channel, row.recipient),
              value: JSON.stringify(record),
              headers: { ...trace, [HEADERS.messageId]: row.id, [HEADERS.channel]: row.channel, [HEADERS.attempt]: String(row.attempts + 1) },
            }],
          }),
        );
      }),
    );
  }

  async function tick(): Promise<number> {
    return deps.store.republishDue(deps.clock.now(), deps.batchSize, deps.graceMs, publish);
  }

  function loop(): void {
    if (stopped) return;
    running = (async () => {
      let published = 0;
      try {
        published = await tick();
        if (published) deps.logger.debug('re-published due messages', { count: published });
      } catch (err) {
        deps.logger.warn('retry scheduler tick failed; will try again', { error: (err as Error).message });
      }
      if (!stopped) timer = setTimeout(loop, published === deps.batchSize ? 0 : deps.pollMs);
    })();
  }

  return {
    tick,
    start() {
      stopped = false;
      loop();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

export type RetryScheduler = ReturnType<typeof createRetryScheduler>;
