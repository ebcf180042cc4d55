import type { Knex } from 'knex';
import type { AcceptedView, Channel, DeferReason, Priority, SendMessageRequest } from '@ca/contracts';
import { ACCEPT_REFUSED_SQLSTATE } from '../db/migrations/0003-accept-refused';
import { contentClaimCte, type SqlPart } from '../dedup/content-dedup';
import { completeKeyCte } from '../dedup/idempotency-keys';
import { recipientCountCte } from '../ratelimit/recipient-rate-limit';
import { userCountCte, type UserLimit } from '../ratelimit/user-rate-limit';

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
  user_id: string | null;
  template_id: string | null;
  template_version: number | null;
  html: string | null;
  deferred_by: DeferReason | null;
}

/** What a notification adds to its message row (POST /v1/notifications). */
export interface NotificationFields {
  userId: string;
  templateId: string;
  templateVersion: number;
  html: string | null;
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
  /** Why sendAt is later than the client asked (quiet hours, a per-user limit), recorded for the status read. */
  deferredBy?: DeferReason | null;
  /** Without an Idempotency-Key: the content claim. */
  content?: { hash: string; windowSeconds: number };
  /** With an Idempotency-Key: the claim taken before, completed in this statement. */
  key?: { key: string; token: string; body: AcceptedView };
  notification?: NotificationFields;
  /** Per-user limits, each counted in the window `userLimitsAt` falls in. */
  userLimits?: UserLimit[];
  userLimitsAt?: Date;
}

export type StoreOutcome = { kind: 'accepted'; userCounts: number[] } | { kind: 'duplicate' } | { kind: 'rate_limited' } | { kind: 'key_taken_over' }
  | { kind: 'user_rate_limited'; limit: number };

const USER_REFUSAL = /^user_rate_limited:(\d+)$/;

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
  const userLimits = input.userLimits ?? [];
  userLimits.forEach((l, i) => parts.push(userCountCte(i, { tenantId: input.tenantId, limit: l, at: input.userLimitsAt ?? input.now, after: input.content ? 'claim' : null })));
  const limit = input.rateLimitPerMinute > 0 ? input.rateLimitPerMinute : 0;
  const n = input.notification;
  parts.push({
    sql: `msg AS (
      INSERT INTO messages (id, tenant_id, channel, recipient, subject, body, priority, correlation_id, metadata, trace_id, idempotency_key, created_at, send_at,
        user_id, template_id, template_version, html, deferred_by)
      SELECT CAST(? AS uuid), CAST(? AS uuid), CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS text), CAST(? AS text),
        CAST(? AS jsonb), CAST(? AS char(32)), CAST(? AS text), CAST(? AS timestamptz), CAST(? AS timestamptz),
        CAST(? AS text), CAST(? AS text), CAST(? AS integer), CAST(? AS text), CAST(? AS text)
      FROM counted WHERE counted.count <= ?
      RETURNING id)`,
    bindings: [input.id, input.tenantId, m.channel, m.to, m.subject ?? null, m.body, m.priority, m.correlationId ?? null,
      m.metadata ? JSON.stringify(m.metadata) : null, input.traceId, input.key?.key ?? null, input.now, input.sendAt ?? null,
      n?.userId ?? null, n?.templateId ?? null, n?.templateVersion ?? null, n?.html ?? null, input.deferredBy ?? null, limit],
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
  userLimits.forEach((l, i) => {
    refusals.push(`WHEN (SELECT count FROM user_counted_${i}) > ? THEN accept_refused('user_rate_limited:${i}')`);
    refusalBindings.push(l.limit);
  });
  if (input.key) {
    parts.push(completeKeyCte({ ...input.key, tenantId: input.tenantId, messageId: input.id, status: 202, after: 'enqueued' }));
    refusals.push(`WHEN NOT EXISTS (SELECT 1 FROM completed) AND EXISTS (SELECT 1 FROM enqueued) THEN accept_refused('key_taken_over')`);
  }
  const sql = `WITH ${parts.map((p) => p.sql).join(',\n')}
    SELECT (SELECT count(*) FROM enqueued)::int AS enqueued, CASE ${refusals.join(' ')} END AS refused${userLimits.map((_, i) => `,
      (SELECT count FROM user_counted_${i}) AS user_count_${i}`).join('')}`;
  try {
    const result = await db.raw<{ rows: Array<Record<string, number>> }>(sql, [...parts.flatMap((p) => p.bindings), ...refusalBindings]);
    const row = result.rows[0];
    if (row?.enqueued !== 1) return { kind: 'duplicate' };
    return { kind: 'accepted', userCounts: userLimits.map((_, i) => Number(row[`user_count_${i}`] ?? 0)) };
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    if (e.code !== ACCEPT_REFUSED_SQLSTATE) throw err;
    // knex prefixes the server's message with the statement, which names every reason: the raised
    // reason is what follows the last " - ".
    const reason = String(e.message).split(' - ').pop() ?? '';
    const user = USER_REFUSAL.exec(reason);
    if (user) return { kind: 'user_rate_limited', limit: Number(user[1]) };
    return reason === 'rate_limited' ? { kind: 'rate_limited' } : { kind: 'key_taken_over' };
  }
}

export async function findMessage(db: Knex, id: string, tenantId: string): Promise<MessageRow | undefined> {
  return db('messages').select('*').where({ id, tenant_id: tenantId }).first<MessageRow | undefined>();
}
