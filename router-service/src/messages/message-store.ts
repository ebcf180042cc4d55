import type { Knex } from 'knex';
import type { AcceptedView, Channel, Priority, SendMessageRequest } from '@ca/contracts';
import { ACCEPT_REFUSED_SQLSTATE } from '../db/migrations/0003-accept-refused';
import { contentClaimCte, type SqlPart } from '../dedup/content-dedup';
import { completeKeyCte } from '../dedup/idempotency-keys';
import { recipientCountCte } from '../ratelimit/recipient-rate-limit';

export interface MessageRow {
  id: string;
  channel: Channel;
  recipient: string;
  subject: string | null;
  body: string;
  priority: Priority;
  correlation_id: string | null;
  metadata: Record<string, string | number | boolean> | null;
  trace_id: string;
  idempotency_key: string | null;
  created_at: Date;
  send_at: Date | null;
  canceled_at: Date | null;
}

export interface AcceptInput {
  id: string;
  tenantId: string;
  message: SendMessageRequest;
  traceId: string;
  now: Date;
  rateLimitPerMinute: number;
  /** The record to publish, its headers built by @ca/outbox's buildHeaders; same row as its enqueue writes. */
  outbox: { topic: string; key: string | null; value: string; headers: Record<string, string>; lane: number };
  /** sendAt: the message row records it and the outbox row waits until then (not_before). */
  sendAt?: Date | null;
  /** Without an Idempotency-Key: the content claim. */
  content?: { hash: string; windowSeconds: number };
  /** With an Idempotency-Key: the claim taken before, completed in this statement. */
  key?: { key: string; token: string; body: AcceptedView };
}

export type StoreOutcome = { kind: 'accepted' } | { kind: 'duplicate' } | { kind: 'rate_limited' } | { kind: 'key_taken_over' };

/**
 * Stores one accepted message in ONE statement (one round trip, autocommit, so atomic): content
 * claim (no key) → recipient rate counter → message row → outbox row → key completion (with key),
 * each CTE writing only if the one before yielded a row. A statement that must refuse after writing
 * (429, key taken over) calls accept_refused(), whose exception rolls every CTE back: the same
 * all-or-nothing as the transaction it replaces, with one round trip instead of six or seven.
 * When this resolves `accepted`, the message and outbox rows are committed (a 202 means durable).
 */
export async function storeAccepted(db: Knex, input: AcceptInput): Promise<StoreOutcome> {
  const m = input.message;
  const parts: SqlPart[] = [];
  if (input.content) parts.push(contentClaimCte({ tenantId: input.tenantId, hash: input.content.hash, messageId: input.id, now: input.now, windowSeconds: input.content.windowSeconds }));
  parts.push(recipientCountCte({ tenantId: input.tenantId, channel: m.channel, to: m.to, now: input.now, limit: input.rateLimitPerMinute, after: input.content ? 'claim' : null }));
  const limit = input.rateLimitPerMinute > 0 ? input.rateLimitPerMinute : 0;
  parts.push({
    sql: `msg AS (
      INSERT INTO messages (id, tenant_id, channel, recipient, subject, body, priority, correlation_id, metadata, trace_id, idempotency_key, created_at, send_at)
      SELECT CAST(? AS uuid), CAST(? AS uuid), CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS text),
        CAST(? AS jsonb), CAST(? AS char(32)), CAST(? AS text), CAST(? AS timestamptz), CAST(? AS timestamptz)
      FROM counted WHERE counted.count <= ?
      RETURNING id)`,
    bindings: [input.id, input.tenantId, m.channel, m.to, m.subject ?? null, m.body, m.priority, m.correlationId ?? null,
      m.metadata ? JSON.stringify(m.metadata) : null, input.traceId, input.key?.key ?? null, input.now, input.sendAt ?? null, limit],
  });
  // Same columns and values as @ca/outbox's enqueue (not_before: sendAt, null = due now): the relay cannot tell the difference.
  parts.push({
    sql: `enqueued AS (
      INSERT INTO outbox (topic, key, value, headers, created_at, not_before, lane)
      SELECT CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS jsonb), CAST(? AS timestamptz), CAST(? AS timestamptz), CAST(? AS smallint) FROM msg
      RETURNING id)`,
    bindings: [input.outbox.topic, input.outbox.key, input.outbox.value, JSON.stringify(input.outbox.headers), input.now, input.sendAt ?? null, input.outbox.lane],
  });
  const refusals = [`WHEN (SELECT count FROM counted) > ? THEN accept_refused('rate_limited')`];
  const refusalBindings: Knex.RawBinding[] = [limit > 0 ? limit : 2_147_483_647];
  if (input.key) {
    parts.push(completeKeyCte({ ...input.key, tenantId: input.tenantId, messageId: input.id, status: 202, after: 'enqueued' }));
    refusals.push(`WHEN NOT EXISTS (SELECT 1 FROM completed) AND EXISTS (SELECT 1 FROM enqueued) THEN accept_refused('key_taken_over')`);
  }
  const sql = `WITH ${parts.map((p) => p.sql).join(',\n')}
    SELECT (SELECT count(*) FROM enqueued)::int AS enqueued, CASE ${refusals.join(' ')} END AS refused`;
  try {
    const result = await db.raw<{ rows: Array<{ enqueued: number }> }>(sql, [...parts.flatMap((p) => p.bindings), ...refusalBindings]);
    return result.rows[0]?.enqueued === 1 ? { kind: 'accepted' } : { kind: 'duplicate' };
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    if (e.code !== ACCEPT_REFUSED_SQLSTATE) throw err;
    return String(e.message).includes('rate_limited') ? { kind: 'rate_limited' } : { kind: 'key_taken_over' };
  }
}

export async function findMessage(db: Knex, id: string, tenantId: string): Promise<MessageRow | undefined> {
  return db('messages').select('*').where({ id, tenant_id: tenantId }).first<MessageRow | undefined>();
}
