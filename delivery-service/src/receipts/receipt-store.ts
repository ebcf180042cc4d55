import type { Knex } from 'knex';
import { HEADERS, type ReceiptStatus, type StatusEvent, type Topics } from '@ca/contracts';
import { enqueue, type OutboxRecord } from '@ca/outbox';
import type { Db } from '@ca/postgres';

/** Who sent a receipt: the `provider` column of `receipts`. */
export type ReceiptSource = 'twilio' | 'sim';

export interface ReceiptInput {
  source: ReceiptSource;
  providerMessageId: string;
  /** The provider's own status word, as received (Twilio `delivered`, `failed`, `sent` ...). */
  providerStatus: string;
  /** What it means for the message; null: an intermediate update (queued, sent), recorded only. */
  status: ReceiptStatus | null;
  errorCode: string | null;
  /** Only receipts for this merchant's messages apply (the tenant whose credentials verified the signature); null: any. */
  tenantId: string | null;
}

/** The message a receipt names, as the receipt span needs it. */
export interface ReceiptTarget {
  id: string;
  tenantId: string | null;
  traceId: string;
  status: string;
  attemptTraceparent: string | null;
}

export type ReceiptOutcome =
  | 'applied' // the message moved from sent to the receipt's status
  | 'duplicate' // this exact receipt was seen before: nothing changed
  | 'ignored' // an intermediate status: recorded only
  | 'stale' // the message is already past sent (monotonic: a late receipt never moves it back)
  | 'unmatched'; // no sent message has this provider id yet: kept, applied when its attempt commits

interface Moved { id: string; tenant_id: string | null; trace_id: string; status: string; fence: string; attempts: number; last_attempted_at: Date | null; attempt_traceparent: string | null }

/**
 * Applies delivery receipts. A status transition is `sent` → delivered | bounced | undelivered
 * only, under the row lock of one UPDATE (monotonic and idempotent: a repeated or late receipt
 * finds the message past `sent` and changes nothing). Each transition bumps the fence, whose value
 * is the status event's version, and enqueues that event in the same transaction.
 */
export function createReceiptStore(db: Db, topics: Topics) {
  /** Moves the messages `ids` from sent to `status`, enqueueing each one's status event. */
  async function transition(trx: Knex.Transaction, ids: readonly string[], status: ReceiptStatus, errorCode: string | null, now: Date, traceHeaders: Record<string, string> | null): Promise<Moved[]> {
    const { rows } = await trx.raw<{ rows: Moved[] }>(
      `UPDATE messages SET status = ?, fence = fence + 1, updated_at = ?, error_message = coalesce(?, error_message)
        WHERE id = ANY(CAST(? AS uuid[])) AND status = 'sent'
        RETURNING id, tenant_id, trace_id, status, fence, attempts, last_attempted_at, attempt_traceparent`,
      [status, now, errorCode ? `receipt error code ${errorCode}` : null, [...ids]],
    );
    await enqueue(trx, rows.map((r) => statusEventRow(topics.status, r, now, traceHeaders)), now);
    return rows;
  }

  return {
    /** The message a provider id names (any status), for the receipt span's parent and link. */
    async find(providerMessageId: string): Promise<ReceiptTarget | null> {
      const m = await db('messages').where({ provider_message_id: providerMessageId }).first<Record<string, unknown> | undefined>('id', 'tenant_id', 'trace_id', 'status', 'attempt_traceparent');
      if (!m) return null;
      return { id: m.id as string, tenantId: (m.tenant_id as string | null) ?? null, traceId: m.trace_id as string, status: m.status as string, attemptTraceparent: (m.attempt_traceparent as string | null) ?? null };
    },

    /** Records the receipt once and applies it (see ReceiptOutcome); status events carry the active trace context. */
    async apply(input: ReceiptInput, now: Date): Promise<ReceiptOutcome> {
      return db.transaction(async (trx) => {
        // Serialised with the attempt's commit (applyEarly takes the same lock): a receipt is either
        // seen by that commit or finds the message it made `sent`, never neither.
        await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`receipt:${input.providerMessageId}`]);
        const target = await trx('messages')
          .where({ provider_message_id: input.providerMessageId })
          .modify((q) => { if (input.tenantId) void q.andWhere({ tenant_id: input.tenantId }); })
          .first<{ id: string } | undefined>('id');
        const inserted = await trx('receipts').insert({
          provider: input.source, provider_message_id: input.providerMessageId, provider_status: input.providerStatus,
          status: input.status, error_code: input.errorCode, message_id: target?.id ?? null, received_at: now,
        }).onConflict(['provider', 'provider_message_id', 'provider_status']).ignore().returning('provider');
        if (inserted.length === 0) return 'duplicate';
        if (input.status === null) return 'ignored';
        if (!target) return 'unmatched';
        const moved = await transition(trx, [target.id], input.status, input.errorCode, now, null);
        return moved.length > 0 ? 'applied' : 'stale';
      });
    },

    /**
     * message-store's afterSent hook: receipts that arrived before their attempt committed (the
     * provider called back faster than our commit) are applied in that commit, in the attempt's trace.
     */
    async applyEarly(trx: Knex.Transaction, sent: ReadonlyArray<{ id: string; providerMessageId: string }>, now: Date): Promise<void> {
      const byPmid = new Map(sent.map((s) => [s.providerMessageId, s.id]));
      // One statement for the whole batch, locks taken in key order (the sorted subquery) so two
      // commits never wait for each other in a cycle.
      await trx.raw('SELECT pg_advisory_xact_lock(hashtext(k)) FROM (SELECT k FROM unnest(CAST(? AS text[])) AS k ORDER BY k) AS keys', [[...byPmid.keys()].map((pmid) => `receipt:${pmid}`)]);
      const early: Array<{ provider_message_id: string; status: ReceiptStatus; error_code: string | null }> = await trx('receipts')
        .whereIn('provider_message_id', [...byPmid.keys()]).whereNull('message_id').whereNotNull('status')
        .orderBy('received_at').select('provider_message_id', 'status', 'error_code');
      if (early.length === 0) return;
      await trx('receipts').whereIn('provider_message_id', [...byPmid.keys()]).whereNull('message_id')
        .update({ message_id: trx.raw('(SELECT id FROM messages m WHERE m.provider_message_id = receipts.provider_message_id LIMIT 1)') });
      for (const r of early) {
        const id = byPmid.get(r.provider_message_id);
        if (!id) continue;
        const row = await trx('messages').where({ id }).first<{ attempt_traceparent: string | null }>('attempt_traceparent');
        // The first final receipt wins; a second finds the message past sent.
        await transition(trx, [id], r.status, r.error_code, now, row?.attempt_traceparent ? { [HEADERS.traceparent]: row.attempt_traceparent } : null);
      }
    },
  };
}

export type ReceiptStore = ReturnType<typeof createReceiptStore>;

function statusEventRow(topic: string, r: Moved, now: Date, traceHeaders: Record<string, string> | null): OutboxRecord {
  const event: StatusEvent = {
    v: 1, id: r.id, tenantId: r.tenant_id, status: r.status as StatusEvent['status'], version: Number(r.fence), deliveryAttempts: r.attempts,
    lastAttemptedAt: r.last_attempted_at ? new Date(r.last_attempted_at).toISOString() : null, at: now.toISOString(),
  };
  return { topic, key: r.id, value: JSON.stringify(event), headers: { [HEADERS.messageId]: r.id }, traceHeaders, traceId: r.trace_id };
}
