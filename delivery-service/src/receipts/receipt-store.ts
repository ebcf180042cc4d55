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
  /** Moves the messages `ids` from sent to `status`, enqueueing each one's status event (with that message's trace headers, if given). */
  async function transition(trx: Knex.Transaction, ids: readonly string[], status: ReceiptStatus, errorCode: string | null, source: string, now: Date, traceHeaders: (moved: Moved) => Record<string, string> | null): Promise<Moved[]> {
    const { rows } = await trx.raw<{ rows: Moved[] }>(
      `UPDATE messages SET status = ?, fence = fence + 1, updated_at = ?, error_message = coalesce(?, error_message)
        WHERE id = ANY(CAST(? AS uuid[])) AND status = 'sent'
        RETURNING id, tenant_id, trace_id, status, fence, attempts, last_attempted_at, attempt_traceparent`,
      [status, now, errorCode ? `receipt error code ${errorCode}` : null, [...ids]],
    );
    await enqueue(trx, rows.map((r) => statusEventRow(topics.status, r, now, traceHeaders(r))), now);
    if (status === 'bounced' && rows.length > 0) {
      // A hard bounce puts the address on its merchant's suppression list (store/suppressions.ts,
      // same normalisation): later sends to it fail without a provider call until it is removed.
      await trx.raw(
        `INSERT INTO suppressions (tenant_id, channel, recipient, reason, provider, message_id, created_at)
         SELECT tenant_id, channel, CASE WHEN channel = 'email' THEN lower(btrim(recipient)) ELSE btrim(recipient) END, ?, ?, id, ?
           FROM messages WHERE id = ANY(CAST(? AS uuid[])) AND tenant_id IS NOT NULL
         ON CONFLICT (tenant_id, channel, recipient) DO NOTHING`,
        [`bounced (delivery receipt${errorCode ? `, error code ${errorCode}` : ''})`, source, now, rows.map((r) => r.id)],
      );
    }
    return rows;
  }

  /** The per-provider-id locks a receipt and its attempt's commit both take, in key order so two transactions never wait in a cycle. */
  async function lockProviderIds(trx: Knex.Transaction, providerMessageIds: readonly string[]): Promise<void> {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(k)) FROM (SELECT k FROM unnest(CAST(? AS text[])) AS k ORDER BY k) AS keys', [providerMessageIds.map((pmid) => `receipt:${pmid}`)]);
  }

  /**
   * Records each receipt once and applies it (see ReceiptOutcome), all in one transaction: receipts
   * that arrive together (a provider calls back for every message it was sent) cost a handful of
   * statements between them, not seven each. Outcomes in input order. Locks: one per provider
   * message id, taken in key order, the same ones applyEarly takes, so a receipt is either seen by
   * its attempt's commit or finds the message that commit made `sent`, never neither.
   */
  async function applyMany(items: ReadonlyArray<{ input: ReceiptInput; traceHeaders: Record<string, string> | null }>, now: Date): Promise<ReceiptOutcome[]> {
    if (items.length === 0) return [];
    return db.transaction(async (trx) => {
      const pmids = [...new Set(items.map((i) => i.input.providerMessageId))];
      await lockProviderIds(trx, pmids);
      const messages: Array<{ id: string; provider_message_id: string; tenant_id: string | null }> = await trx('messages')
        .whereIn('provider_message_id', pmids).select('id', 'provider_message_id', 'tenant_id');
      const targetOf = ({ providerMessageId, tenantId }: ReceiptInput) =>
        messages.find((m) => m.provider_message_id === providerMessageId && (!tenantId || m.tenant_id === tenantId))?.id ?? null;
      const targets = items.map((i) => targetOf(i.input));
      const inserted: Array<{ provider: string; provider_message_id: string; provider_status: string }> = await trx('receipts').insert(items.map((i, n) => ({
        provider: i.input.source, provider_message_id: i.input.providerMessageId, provider_status: i.input.providerStatus,
        status: i.input.status, error_code: i.input.errorCode, message_id: targets[n], received_at: now,
      }))).onConflict(['provider', 'provider_message_id', 'provider_status']).ignore().returning(['provider', 'provider_message_id', 'provider_status']);
      const fresh = new Set(inserted.map((r) => `${r.provider}\u0000${r.provider_message_id}\u0000${r.provider_status}`));

      const outcomes: ReceiptOutcome[] = [];
      const first = new Map<string, number>(); // message id → the item that may move it (the first final receipt in the batch)
      items.forEach(({ input }, n) => {
        const key = `${input.source}\u0000${input.providerMessageId}\u0000${input.providerStatus}`;
        if (!fresh.delete(key)) outcomes.push('duplicate'); // seen before, or earlier in this batch
        else if (input.status === null) outcomes.push('ignored');
        else if (!targets[n]) outcomes.push('unmatched');
        else if (first.has(targets[n]!)) outcomes.push('stale'); // the first one moves it past sent
        else {
          first.set(targets[n]!, n);
          outcomes.push('stale'); // until its transition says applied
        }
      });
      const groups = new Map<string, number[]>();
      for (const n of first.values()) {
        const g = `${items[n]!.input.status}\u0000${items[n]!.input.errorCode ?? ''}\u0000${items[n]!.input.source}`;
        groups.set(g, [...(groups.get(g) ?? []), n]);
      }
      for (const members of groups.values()) {
        const { status, errorCode, source } = items[members[0]!]!.input;
        const headersById = new Map(members.map((n) => [targets[n]!, items[n]!.traceHeaders]));
        const moved = await transition(trx, members.map((n) => targets[n]!), status!, errorCode, source, now, (m) => headersById.get(m.id) ?? null);
        const movedIds = new Set(moved.map((m) => m.id));
        for (const n of members) if (movedIds.has(targets[n]!)) outcomes[n] = 'applied';
      }
      return outcomes;
    });
  }

  /** The messages these provider ids name (any status), for the receipt spans' parents and links. */
  async function findMany(providerMessageIds: readonly string[]): Promise<Map<string, ReceiptTarget>> {
    const rows: Array<Record<string, unknown>> = providerMessageIds.length === 0 ? [] : await db('messages')
      .whereIn('provider_message_id', [...new Set(providerMessageIds)])
      .select('id', 'tenant_id', 'trace_id', 'status', 'attempt_traceparent', 'provider_message_id');
    return new Map(rows.map((m) => [m.provider_message_id as string, {
      id: m.id as string, tenantId: (m.tenant_id as string | null) ?? null, traceId: m.trace_id as string, status: m.status as string, attemptTraceparent: (m.attempt_traceparent as string | null) ?? null,
    }]));
  }

  return {
    findMany,
    applyMany,

    /**
     * message-store's afterSent hook: receipts that arrived before their attempt committed (the
     * provider called back faster than our commit) are applied in that commit, in the attempt's trace.
     */
    async applyEarly(trx: Knex.Transaction, sent: ReadonlyArray<{ id: string; providerMessageId: string }>, now: Date): Promise<void> {
      const byPmid = new Map(sent.map((s) => [s.providerMessageId, s.id]));
      await lockProviderIds(trx, [...byPmid.keys()]);
      const early: Array<{ provider: string; provider_message_id: string; status: ReceiptStatus; error_code: string | null }> = await trx('receipts')
        .whereIn('provider_message_id', [...byPmid.keys()]).whereNull('message_id').whereNotNull('status')
        .orderBy('received_at').select('provider', 'provider_message_id', 'status', 'error_code');
      if (early.length === 0) return;
      await trx('receipts').whereIn('provider_message_id', [...byPmid.keys()]).whereNull('message_id')
        .update({ message_id: trx.raw('(SELECT id FROM messages m WHERE m.provider_message_id = receipts.provider_message_id LIMIT 1)') });
      for (const r of early) {
        const id = byPmid.get(r.provider_message_id);
        if (!id) continue;
        // The first final receipt wins; a second finds the message past sent.
        await transition(trx, [id], r.status, r.error_code, r.provider, now, (m) => (m.attempt_traceparent ? { [HEADERS.traceparent]: m.attempt_traceparent } : null));
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
