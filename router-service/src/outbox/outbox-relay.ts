import { context } from '@opentelemetry/api';
import type { Knex } from 'knex';
import type { Producer } from 'kafkajs';
import { ACKS_ALL } from '@ca/kafka';
import { ATTR, HEADERS, SPAN } from '@ca/contracts';
import { contextFromHeaders, inSpan, type Logger } from '@ca/telemetry';
import { deleteOutboxRows, lockOutboxBatch, type OutboxRow } from './outbox-store';

export interface OutboxRelayDeps {
  db: Knex;
  producer: Producer;
  logger: Logger;
  pollMs: number;
  batchSize: number;
  /** Delay after a failed round: initialMs, doubled per consecutive failure, capped at maxMs. */
  backoff?: { initialMs: number; maxMs: number };
}

export interface OutboxRelay {
  start(): void;
  /** Stops polling; resolves once the batch in flight (if any) has been published or rolled back. */
  stop(): Promise<void>;
  /** Wakes the relay now (called after a message is accepted) instead of at the next poll. */
  kick(): void;
}

const DEFAULT_BACKOFF = { initialMs: 500, maxMs: 30_000 };

/**
 * Publishes outbox rows to Kafka and deletes them once the broker acknowledged (acks=all).
 * Delivery is at-least-once: a crash between the broker's ack and our commit republishes the
 * row; delivery-service's ledger makes the repeat harmless.
 */
export function createOutboxRelay(deps: OutboxRelayDeps): OutboxRelay {
  const { db, producer, logger, pollMs, batchSize } = deps;
  const backoff = deps.backoff ?? DEFAULT_BACKOFF;
  let running = false;
  let loop: Promise<void> | null = null;
  let kicked = false;
  let wake: ((reason: 'kick' | 'stop') => void) | null = null;
  let connected = false;
  producer.on(producer.events.CONNECT, () => { connected = true; });
  producer.on(producer.events.DISCONNECT, () => { connected = false; });

  function pause(ms: number, kickable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); wake = null; resolve(); };
      const timer = setTimeout(done, ms);
      wake = (reason) => { if (reason === 'stop' || kickable) done(); };
    });
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (running) {
      kicked = false;
      let delay = pollMs;
      try {
        // Connect outside the transaction so no row stays locked while the broker is unreachable.
        if (!connected) await producer.connect();
        const round = await relayOnce();
        failures = 0;
        if (round.locked === batchSize) delay = 0; // more rows are waiting
      } catch (err) {
        failures++;
        delay = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (failures - 1));
        logger.warn('outbox relay failed; unpublished rows stay in the outbox', { error: (err as Error).message, failures, retryInMs: delay });
      }
      if (!running || delay === 0) continue;
      if (failures === 0 && kicked) continue;
      await pause(delay, failures === 0);
    }
  }

  /** One transaction: lock a batch, publish it, delete what the broker acknowledged. */
  async function relayOnce(): Promise<{ locked: number }> {
    const outcome = await db.transaction(async (trx) => {
      const rows = await lockOutboxBatch(trx, batchSize);
      if (rows.length === 0) return { locked: 0, failed: [] as Error[] };
      const { published, failed } = await publishRows(rows);
      await deleteOutboxRows(trx, published);
      return { locked: rows.length, failed };
    });
    if (outcome.failed.length > 0) {
      throw new Error(`${outcome.failed.length} of ${outcome.locked} outbox row(s) not published: ${outcome.failed[0]?.message ?? ''}`);
    }
    return outcome;
  }

  /**
   * Rows sharing a key (one recipient on one channel) are sent one after another, in id order, and
   * a failure stops that key's chain so a later message never overtakes an earlier one. Different
   * keys go concurrently. One send per row, each in the context of the request that accepted it:
   * the kafkajs instrumentation parents its producer span on the active context.
   */
  async function publishRows(rows: OutboxRow[]): Promise<{ published: string[]; failed: Error[] }> {
    const byKey = new Map<string, OutboxRow[]>();
    for (const row of rows) {
      const chain = byKey.get(row.key);
      if (chain) chain.push(row);
      else byKey.set(row.key, [row]);
    }
    const published: string[] = [];
    const failed: Error[] = [];
    await Promise.all([...byKey.values()].map(async (chain) => {
      for (const row of chain) {
        try {
          await publishRow(row);
          published.push(row.id);
        } catch (err) {
          failed.push(err as Error);
          return;
        }
      }
    }));
    return { published, failed };
  }

  function publishRow(row: OutboxRow): Promise<unknown> {
    const messageId = row.headers[HEADERS.messageId];
    return context.with(contextFromHeaders(row.headers), () =>
      inSpan(SPAN.relay, { [ATTR.route]: row.topic, ...(messageId ? { [ATTR.messageId]: messageId } : {}) }, async () => {
        const result = await producer.send({
          topic: row.topic,
          acks: ACKS_ALL,
          messages: [{ key: row.key, value: row.value, headers: { ...row.headers } }],
        });
        // debug: a per-message technical line; at info it costs a log line, an OTLP log record and
        // a stored document per message, and the relay span already records the publish.
        logger.debug('message published', { messageId, topic: row.topic });
        return result;
      }),
    );
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      wake?.('stop');
      await loop;
      loop = null;
    },
    kick() {
      kicked = true;
      wake?.('kick');
    },
  };
}
