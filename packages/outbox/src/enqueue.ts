import type { Knex } from 'knex';
import { HEADERS, LANE_ORDER } from '@ca/contracts';
import { currentTraceHeaders, syntheticTraceparent } from '@ca/telemetry';

export interface OutboxRecord {
  topic: string;
  /** Kafka key; records sharing a key are published in enqueue order. */
  key: string | null;
  /** Record value (JSON text). */
  value: string;
  /** Headers of our own (x-message-id, x-channel, ...); trace headers are added here, not by callers. */
  headers?: Record<string, string>;
  /** Publish no earlier than this (a retry's due time); null/absent: as soon as possible. */
  notBefore?: Date | null;
  /** Claim order before id (LANE_ORDER of the message's priority); absent: medium. */
  lane?: number;
  /**
   * Trace context the record continues (W3C headers). When absent, the active span's context;
   * batched writers pass it explicitly because their statement runs in one record's context only.
   */
  traceHeaders?: Record<string, string | undefined> | null;
  /** Last resort when neither exists (tracing off): a synthetic traceparent for this trace id. */
  traceId?: string;
}

/**
 * The one place Kafka headers and W3C trace context of an outgoing record are built. Only
 * traceparent/tracestate travel: a client's baggage never reaches Kafka. NUL characters are replaced
 * (PostgreSQL's jsonb refuses them, and a header value is never the record's only copy).
 */
export function buildHeaders(record: OutboxRecord): Record<string, string> {
  const source = record.traceHeaders?.[HEADERS.traceparent] ? record.traceHeaders : currentTraceHeaders();
  const traceparent = source[HEADERS.traceparent] ?? (record.traceId ? syntheticTraceparent(record.traceId) : undefined);
  const tracestate = source[HEADERS.traceparent] ? source[HEADERS.tracestate] : undefined;
  const out: Record<string, string> = {};
  if (traceparent) out[HEADERS.traceparent] = traceparent;
  if (tracestate) out[HEADERS.tracestate] = tracestate;
  for (const [k, v] of Object.entries(record.headers ?? {})) out[k] = v;
  for (const [k, v] of Object.entries(out)) if (v.includes('\u0000')) out[k] = v.replaceAll('\u0000', '\uFFFD');
  return out;
}

/**
 * Adds records to the outbox inside the caller's transaction, so they exist exactly when the state
 * change they announce commits. Returns the new row ids in the order given.
 */
export async function enqueue(trx: Knex | Knex.Transaction, records: readonly OutboxRecord[], now: Date): Promise<string[]> {
  if (records.length === 0) return [];
  const rows = records.map((r) => ({
    topic: r.topic,
    key: r.key,
    value: r.value,
    headers: JSON.stringify(buildHeaders(r)),
    not_before: r.notBefore ?? null,
    lane: r.lane ?? LANE_ORDER.medium,
    created_at: now,
  }));
  // A multi-row INSERT ... VALUES returns its rows in VALUES order in PostgreSQL.
  const inserted: Array<{ id: string }> = await trx('outbox').insert(rows).returning('id');
  return inserted.map((r) => String(r.id));
}

/** Since when the longest-waiting due row has been publishable (created, or came due), or null. */
export async function oldestDueOutboxRow(db: Knex, now: Date): Promise<Date | null> {
  const row = await db('outbox')
    .where((q) => q.whereNull('not_before').orWhere('not_before', '<=', now))
    .first<{ oldest: Date | null } | undefined>(db.raw('min(greatest(created_at, coalesce(not_before, created_at))) as oldest'));
  return row?.oldest ?? null;
}

/**
 * The outbox's backlog in one scan (the metrics gauges read it, throttled): rows publishable now,
 * rows waiting for their not_before, and how long the oldest publishable row has waited (seconds).
 */
export async function outboxBacklog(db: Knex, now: Date): Promise<{ due: number; scheduled: number; oldestDueAgeSeconds: number }> {
  const { rows } = await db.raw<{ rows: Array<{ due: string; scheduled: string; oldest: Date | null }> }>(`
    SELECT count(*) FILTER (WHERE not_before IS NULL OR not_before <= :now) AS due,
           count(*) FILTER (WHERE not_before > :now) AS scheduled,
           min(greatest(created_at, coalesce(not_before, created_at))) FILTER (WHERE not_before IS NULL OR not_before <= :now) AS oldest
      FROM outbox`, { now });
  const row = rows[0];
  const oldest = row?.oldest ? new Date(row.oldest) : null;
  return {
    due: Number(row?.due ?? 0),
    scheduled: Number(row?.scheduled ?? 0),
    oldestDueAgeSeconds: oldest ? Math.max(0, (now.getTime() - oldest.getTime()) / 1000) : 0,
  };
}
