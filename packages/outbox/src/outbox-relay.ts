import { randomUUID } from 'node:crypto';
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { Knex } from 'knex';
import type { Message, Producer } from 'kafkajs';
import { ACKS_ALL } from '@ca/kafka';
import { ATTR, HEADERS, LANE_ORDER } from '@ca/contracts';
import { contextFromHeaders, currentTraceHeaders, tracer, type Logger } from '@ca/telemetry';
import { claimRows, deleteClaimed, nextDueAt, releaseClaimed, type ClaimedRow } from './claim-store';

export interface OutboxRelayDeps {
  db: Knex;
  producer: Producer;
  logger: Logger;
  clock: { now(): Date };
  random: () => number;
  /**
   * Longest idle wait between rounds. A row with not_before (a retry, a scheduled message) does not
   * wait for the poll: after each round the relay sleeps only until the earliest not_before.
   */
  pollMs: number;
  /** Most rows per round, all sent in one produce request (sendBatch). */
  batchSize: number;
  /** How long a round's claim holds; after that another relay may publish the rows again. */
  claimMs?: number;
  /** Delay after a failed round: initialMs doubled per consecutive failure up to maxMs, with jitter. */
  backoff?: { initialMs: number; maxMs: number };
  /**
   * LOW yields to HIGH (as in delivery-service's lane gate): for `quietMs` after the HIGH round
   * last ran, the main loop publishes no LOW rows, so a LOW backlog being relayed does not take the
   * CPU, the database and the broker from HIGH messages; never for more than `maxHoldMs` at a time,
   * so LOW always progresses. quietMs 0 (the default): off.
   */
  lowYield?: { quietMs: number; maxHoldMs: number };
}

export interface OutboxRelay {
  start(): void;
  /** Stops the loop; resolves once the round in flight (if any) has finished. */
  stop(): Promise<void>;
  /**
   * Wakes the relay now (something was enqueued) instead of at the next poll. `urgent`: a HIGH
   * row was enqueued; that wakes the HIGH round instead, which publishes HIGH rows only, beside
   * the main loop, so a HIGH row never waits for a round of a LOW backlog to be published. (If
   * the HIGH round cannot take a row, the main loop's next round does.)
   */
  kick(opts?: { urgent?: boolean }): void;
}

const DEFAULT_BACKOFF = { initialMs: 500, maxMs: 30_000 };
const DEFAULT_CLAIM_MS = 30_000;

/**
 * Publishes outbox rows: claim (a short transaction) → one sendBatch with acks=all → delete.
 * No transaction is open during Kafka I/O. A crash after the publish and before the delete
 * publishes the rows again once their claim expires: delivery is at-least-once and every consumer
 * is idempotent. A failed publish gives the rows back and backs off (exponential, equal jitter).
 */
export function createOutboxRelay(deps: OutboxRelayDeps): OutboxRelay {
  const { db, producer, logger, clock, pollMs, batchSize } = deps;
  const backoff = deps.backoff ?? DEFAULT_BACKOFF;
  const claimMs = deps.claimMs ?? DEFAULT_CLAIM_MS;
  let running = false;
  let loop: Promise<void> | null = null;
  let urgentLoop: Promise<void> | null = null;
  let kicked = false;
  let wake: ((reason: 'kick' | 'stop') => void) | null = null;
  let urgentKicked = false;
  let wakeUrgent: (() => void) | null = null;
  const lowYield = deps.lowYield ?? { quietMs: 0, maxHoldMs: 0 };
  let lastUrgentAt = Number.NEGATIVE_INFINITY;
  let lowHeldSince: number | null = null;
  const NOT_LOW = [LANE_ORDER.high, LANE_ORDER.medium];
  const ONLY_HIGH = [LANE_ORDER.high];

  /** How much longer LOW rows wait for HIGH (0: publish them now). */
  function lowHoldMs(): number {
    if (lowYield.quietMs <= 0) return 0;
    const now = performance.now();
    const quietLeft = lastUrgentAt + lowYield.quietMs - now;
    if (quietLeft <= 0) {
      lowHeldSince = null;
      return 0;
    }
    lowHeldSince ??= now;
    const holdLeft = lowHeldSince + lowYield.maxHoldMs - now;
    if (holdLeft <= 0) {
      lowHeldSince = null; // held long enough: this round takes LOW rows too
      return 0;
    }
    return Math.ceil(Math.min(quietLeft, holdLeft));
  }
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
        if (!connected) await producer.connect();
        const hold = lowHoldMs();
        const published = await relayOnce(hold > 0 ? NOT_LOW : undefined);
        failures = 0;
        if (published === batchSize) delay = 0; // more rows are waiting
        else delay = Math.min(await untilNextDue(pollMs), hold > 0 ? hold : Number.POSITIVE_INFINITY);
      } catch (err) {
        failures++;
        const step = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (failures - 1));
        delay = Math.round(step / 2 + deps.random() * (step / 2));
        logger.warn('outbox relay failed; unpublished rows stay in the outbox', { error: (err as Error).message, failures, retryInMs: delay });
      }
      if (!running || delay === 0) continue;
      if (failures === 0 && kicked) continue;
      await pause(delay, failures === 0);
    }
  }

  /** Sleep until the earliest future not_before (1 ms past it), but never longer than `max`. */
  async function untilNextDue(max: number): Promise<number> {
    const now = clock.now();
    const next = await nextDueAt(db, now);
    if (!next) return max;
    return Math.max(1, Math.min(max, Math.ceil(next.getTime() - now.getTime()) + 1));
  }

  /**
   * The HIGH round: idle until an urgent kick, then publishes HIGH rows only, round after round,
   * until none is left; alongside the main loop (claims hold rows, and the claim's advisory lock
   * serialises claimers, so the two never take the same row or split a key).
   */
  async function runUrgent(): Promise<void> {
    while (running) {
      if (!urgentKicked) await new Promise<void>((resolve) => { wakeUrgent = resolve; });
      wakeUrgent = null;
      urgentKicked = false;
      if (!running) return;
      lastUrgentAt = performance.now();
      let published = 0;
      try {
        if (connected) {
          for (let n = batchSize; running && n === batchSize; published += n) n = await relayOnce(ONLY_HIGH);
          lastUrgentAt = performance.now();
        }
      } catch (err) {
        logger.debug('outbox HIGH round failed; the main loop retries its rows', { error: (err as Error).message });
      }
      // Nothing taken (not connected yet, not due yet — a scheduled HIGH message —, a key held by
      // another round, a failure): the main loop's next round sees to it, and to the next due time.
      if (published === 0) {
        kicked = true;
        wake?.('kick');
      }
    }
  }

  async function relayOnce(lanes?: readonly number[]): Promise<number> {
    const token = randomUUID();
    const rows = await claimRows(db, { token, now: clock.now(), claimMs, limit: batchSize, ...(lanes === undefined ? {} : { lanes }) });
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => r.id);
    try {
      await publish(rows);
    } catch (err) {
      await releaseClaimed(db, ids, token).catch(() => undefined); // else the claim simply expires
      throw err;
    }
    await deleteClaimed(db, ids, token);
    return rows.length;
  }

  /**
   * One produce request for the whole round; kafkajs keeps the given order within a partition, and
   * a key always maps to one partition, so a key's rows arrive in id order. Each row gets a producer
   * span in the trace it was enqueued in (the instrumentation would parent every span of a batch on
   * the relay's own context, so it is suppressed for this call and our span's context is injected).
   */
  async function publish(rows: ClaimedRow[]): Promise<void> {
    const spans: Span[] = [];
    const byTopic = new Map<string, Message[]>();
    for (const row of rows) {
      const messageId = row.headers[HEADERS.messageId];
      const span = tracer.startSpan(`send ${row.topic}`, {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.name': 'send',
          'messaging.operation.type': 'send',
          'messaging.destination.name': row.topic,
          ...(row.key ? { 'messaging.kafka.message.key': row.key } : {}),
          ...(messageId ? { [ATTR.messageId]: messageId } : {}),
        },
      }, contextFromHeaders(row.headers));
      spans.push(span);
      const headers = { ...row.headers, ...currentTraceHeaders(trace.setSpan(context.active(), span)) };
      delete headers[HEADERS.baggage];
      const list = byTopic.get(row.topic) ?? [];
      list.push({ key: row.key, value: row.value, headers });
      byTopic.set(row.topic, list);
    }
    try {
      await context.with(suppressTracing(context.active()), () =>
        producer.sendBatch({ acks: ACKS_ALL, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) }),
      );
      logger.debug('outbox rows published', { count: rows.length });
    } catch (err) {
      for (const span of spans) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      }
      throw err;
    } finally {
      for (const span of spans) span.end();
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
      urgentLoop = runUrgent();
    },
    async stop() {
      running = false;
      wake?.('stop');
      wakeUrgent?.();
      await Promise.all([loop, urgentLoop]);
      loop = null;
      urgentLoop = null;
    },
    kick(opts) {
      if (opts?.urgent) {
        urgentKicked = true;
        wakeUrgent?.();
        return;
      }
      kicked = true;
      wake?.('kick');
    },
  };
}
