import type { AttemptOutcome, CancelRequest, DeliveryStatusView, MessageStatus, SendRecord } from '@ca/contracts';
import { enqueue, type OutboxRecord } from '@ca/outbox';
import type { Knex } from 'knex';
import type { Db } from '@ca/postgres';
import { retryOnConflict } from './pg-errors';

export interface ClaimRequest {
  record: SendRecord;
  /** Published if the lease runs out before the attempt finishes (its not_before is the lease expiry). */
  revival: OutboxRecord;
}

export interface Claim {
  fence: number;
  /** The attempt this claim will make (1-based). */
  attempt: number;
  /** Set when the ledger says the effect already happened (only the outcome's commit was lost). */
  delivered: { providerMessageId: string | null } | null;
  /** The provider an earlier call for this message may have reached (ledger pin): only it may be called. */
  pinnedProvider?: string | null;
  /** Attempts made before the last re-drive of a dead letter; they do not count against MAX_ATTEMPTS. */
  attemptBase?: number;
}

export interface AttemptResult {
  id: string;
  fence: number;
  /** The attempts count to store; with `outcome` null (a provider rate limit) it stays as it was. */
  attempts: number;
  worker: string;
  startedAt: Date;
  finishedAt: Date;
  /** The attempt row to write; null: no attempt is counted. */
  outcome: AttemptOutcome | null;
  error: string | null;
  status: MessageStatus;
  /** Set when status is 'retrying': when the next attempt is due. */
  dueAt: Date | null;
  backoffMs: number | null;
  providerMessageId: string | null;
  /** Records announcing this outcome (the retry at dueAt, a dead letter): written only if the fence holds. */
  publish: OutboxRecord[];
  /** W3C traceparent of this attempt's span: a later delivery receipt's span is its child and links to it. */
  attemptTraceparent?: string | null;
}

/**
 * Runs inside finish()'s transaction after messages became `sent` (receipts/receipt-store.ts:
 * a receipt that arrived before this commit is applied now).
 */
export type AfterSent = (trx: Knex.Transaction, sent: ReadonlyArray<{ id: string; providerMessageId: string }>, now: Date) => Promise<void>;

const ACTIVE: MessageStatus[] = ['pending', 'retrying'];
const noNul = (s: string | null) => (s === null ? null : s.replaceAll('\u0000', '\uFFFD'));

/**
 * All of delivery-service's SQL. Every time is passed in from the injected clock (no now() in
 * SQL), so lease and retry timing are exact under test. Each write takes many messages at once
 * (one statement or one transaction for N), called through batchers by concurrent attempts.
 */
export function createMessageStore(db: Db, hooks: { afterSent?: AfterSent } = {}) {
  return {
    /** First sight of records: keep the messages (idempotent for redelivered records). */
    async saveReceived(records: readonly SendRecord[], now: Date): Promise<void> {
      if (records.length === 0) return;
      const rows = [...records].sort((a, b) => (a.id < b.id ? -1 : 1)).map((record) => ({
        id: record.id,
        channel: record.channel,
        recipient: record.to,
        subject: record.subject ?? null,
        body: record.body,
        priority: record.priority,
        correlation_id: record.correlationId ?? null,
        metadata: record.metadata ? JSON.stringify(record.metadata) : null,
        trace_id: record.traceId,
        tenant_id: record.tenantId ?? null,
        status: 'pending',
        created_at: record.createdAt,
        updated_at: now,
      }));
      await db('messages').insert(rows).onConflict('id').ignore();
    },

    /**
     * Takes messages for one attempt each, in one transaction: only those still active, with no live
     * lease and due. Bumps the fence, writes the ledger intent ("a call with this fence may be under
     * way") and enqueues each claim's revival row. Returns a claim (or null: skip) per request.
     */
    async claim(requests: readonly ClaimRequest[], worker: string, now: Date, leaseMs: number): Promise<Array<Claim | null>> {
      const until = new Date(now.getTime() + leaseMs);
      const ids = [...new Set(requests.map((r) => r.record.id))];
      const claims = await retryOnConflict(() => db.transaction(async (trx) => {
        const { rows } = await trx.raw<{ rows: Array<{ id: string; fence: string; attempts: number; attempt_base: number }> }>(
          `UPDATE messages SET fence = fence + 1, lease_owner = ?, lease_until = ?, updated_at = ?
            WHERE id = ANY(CAST(? AS uuid[])) AND status = ANY(CAST(? AS text[]))
              AND (lease_until IS NULL OR lease_until <= ?) AND (due_at IS NULL OR due_at <= ?)
            RETURNING id, fence, attempts, attempt_base`,
          [worker, until, now, ids, ACTIVE, now, now],
        );
        const byId = new Map<string, Claim>();
        if (rows.length === 0) return byId;
        for (const r of rows) byId.set(r.id, { fence: Number(r.fence), attempt: r.attempts + 1, delivered: null, attemptBase: r.attempt_base ?? 0 });

        const claimed = rows.map((r) => r.id);
        const { rows: calling } = await trx.raw<{ rows: Array<{ message_id: string; provider: string | null }> }>(
          `INSERT INTO delivery_ledger (message_id, fence, state, called_at)
           SELECT v.id, v.fence, 'calling', ? FROM unnest(CAST(? AS uuid[]), CAST(? AS bigint[])) AS v(id, fence)
           ON CONFLICT (message_id) DO UPDATE SET fence = EXCLUDED.fence, state = 'calling', called_at = EXCLUDED.called_at
            WHERE delivery_ledger.state <> 'delivered'
           RETURNING message_id, provider`,
          [now, claimed, rows.map((r) => r.fence)],
        );
        const going = new Set(calling.map((r) => r.message_id));
        for (const r of calling) if (r.provider) byId.get(r.message_id)!.pinnedProvider = r.provider;
        const delivered = claimed.filter((id) => !going.has(id));
        if (delivered.length > 0) {
          const entries: Array<{ message_id: string; provider_message_id: string | null }> = await trx('delivery_ledger')
            .whereIn('message_id', delivered).select('message_id', 'provider_message_id');
          for (const e of entries) byId.get(e.message_id)!.delivered = { providerMessageId: e.provider_message_id };
        }

        const first = new Map<string, ClaimRequest>();
        for (const r of requests) if (byId.has(r.record.id) && !first.has(r.record.id)) first.set(r.record.id, r);
        const revivalIds = await enqueue(trx, [...first.values()].map((r) => ({ ...r.revival, notBefore: until })), now);
        await trx.raw(
          `UPDATE messages m SET revival_outbox_id = v.rid FROM unnest(CAST(? AS uuid[]), CAST(? AS bigint[])) AS v(id, rid) WHERE m.id = v.id`,
          [[...first.keys()], revivalIds],
        );
        return byId;
      }));
      // One claim per message: a second record of the same message in this batch is skipped.
      const handed = new Set<string>();
      return requests.map((r) => {
        const c = claims.get(r.record.id);
        if (!c || handed.has(r.record.id)) return null;
        handed.add(r.record.id);
        return c;
      });
    },

    /**
     * Records attempts' outcomes atomically — status, attempt row, ledger, the records announcing
     * the outcome (retry, dead letter), and the removal of the claim's revival row — each only if
     * its fence is still ours. Returns per result whether it was recorded; false means another
     * worker took the message over (we stalled past our lease): our outcome, and anything it would
     * have published, is discarded.
     */
    async finish(results: readonly AttemptResult[]): Promise<boolean[]> {
      if (results.length === 0) return [];
      const recorded = await retryOnConflict(() => db.transaction(async (trx) => {
        const values = results.map((r) => ({
          id: r.id, fence: r.fence, status: r.status, attempts: r.attempts,
          last_attempted_at: r.outcome ? r.startedAt : null, due_at: r.dueAt, error: noNul(r.error),
          provider_message_id: r.providerMessageId, finished_at: r.finishedAt, attempt_traceparent: r.attemptTraceparent ?? null,
        }));
        const { rows } = await trx.raw<{ rows: Array<{ id: string; revival_outbox_id: string | null }> }>(
          `UPDATE messages m SET status = v.status, attempts = v.attempts,
                  last_attempted_at = coalesce(v.last_attempted_at, m.last_attempted_at), due_at = v.due_at,
                  lease_owner = NULL, lease_until = NULL, error_message = v.error,
                  provider_message_id = coalesce(v.provider_message_id, m.provider_message_id), updated_at = v.finished_at,
                  attempt_traceparent = coalesce(v.attempt_traceparent, m.attempt_traceparent)
             FROM jsonb_to_recordset(CAST(? AS jsonb)) AS v(id uuid, fence bigint, status text, attempts int,
                  last_attempted_at timestamptz, due_at timestamptz, error text, provider_message_id text, finished_at timestamptz,
                  attempt_traceparent text)
            WHERE m.id = v.id AND m.fence = v.fence
            RETURNING m.id, m.revival_outbox_id`,
          [JSON.stringify(values)],
        );
        const ours = new Set(rows.map((r) => r.id));
        const kept = results.filter((r) => ours.has(r.id));
        if (kept.length === 0) return ours;

        const attemptRows = kept.filter((r) => r.outcome !== null).map((r) => ({
          message_id: r.id, n: r.attempts, started_at: r.startedAt, finished_at: r.finishedAt, outcome: r.outcome,
          error: noNul(r.error), backoff_ms: r.backoffMs, provider_message_id: r.providerMessageId, worker: r.worker,
        }));
        if (attemptRows.length > 0) await trx('attempts').insert(attemptRows).onConflict(['message_id', 'n']).merge();

        const sent = kept.filter((r) => r.outcome === 'sent');
        if (sent.length > 0) {
          await trx.raw(
            `UPDATE delivery_ledger l SET state = 'delivered', provider_message_id = v.pmid, delivered_at = v.at
               FROM jsonb_to_recordset(CAST(? AS jsonb)) AS v(id uuid, pmid text, at timestamptz) WHERE l.message_id = v.id`,
            [JSON.stringify(sent.map((r) => ({ id: r.id, pmid: r.providerMessageId, at: r.finishedAt })))],
          );
        }
        const revivals = rows.map((r) => r.revival_outbox_id).filter((id): id is string => id !== null);
        if (revivals.length > 0) await trx('outbox').whereIn('id', revivals).delete();
        await enqueue(trx, kept.flatMap((r) => r.publish), kept[0]!.finishedAt);
        // After the `sent` events, so a receipt's event follows its message's `sent` on the topic.
        const nowSent = sent.filter((r) => r.status === 'sent' && r.providerMessageId).map((r) => ({ id: r.id, providerMessageId: r.providerMessageId! }));
        if (hooks.afterSent && nowSent.length > 0) await hooks.afterSent(trx, nowSent, kept[0]!.finishedAt);
        return ours;
      }));
      return results.map((r) => recorded.has(r.id));
    },

    /**
     * Pins (or, with null, unpins) the provider a call for this message is about to reach or may
     * have reached, under our fence: after a crash or an ambiguous failure, the next attempt calls
     * only that provider. Returns false when the fence moved (another worker owns the message).
     */
    async pinProvider(id: string, fence: number, provider: string | null): Promise<boolean> {
      const n = await db('delivery_ledger').where({ message_id: id, fence }).update({ provider });
      return n > 0;
    },

    /**
     * Cancels a message if no provider call has been made for it, deciding under the row lock the
     * claim takes: a message this service has not consumed yet gets a tombstone (status canceled;
     * the record, when it comes, is saved as a no-op and its claim skips it); a pending one with no
     * attempt, no live lease and no ledger entry (no call was ever started) becomes canceled with its
     * fence bumped. Anything else answers with its current status.
     */
    async cancel(id: string, request: CancelRequest, now: Date): Promise<{ canceled: true } | { canceled: false; status: MessageStatus }> {
      const { rows } = await db.raw<{ rows: Array<{ status: MessageStatus }> }>(
        `INSERT INTO messages AS m (id, channel, priority, trace_id, tenant_id, status, canceled_at, created_at, updated_at)
         VALUES (CAST(? AS uuid), ?, ?, ?, CAST(? AS uuid), 'canceled', CAST(? AS timestamptz), CAST(? AS timestamptz), CAST(? AS timestamptz))
         ON CONFLICT (id) DO UPDATE SET status = 'canceled', canceled_at = EXCLUDED.canceled_at, fence = m.fence + 1, updated_at = EXCLUDED.updated_at
          WHERE m.status = 'pending' AND m.attempts = 0 AND (m.lease_until IS NULL OR m.lease_until <= EXCLUDED.updated_at)
            AND NOT EXISTS (SELECT 1 FROM delivery_ledger l WHERE l.message_id = m.id)
         RETURNING m.status`,
        [id, request.channel, request.priority, request.traceId, request.tenantId, now, request.createdAt, now],
      );
      if (rows.length > 0) return { canceled: true };
      const current = await db('messages').where({ id }).first<{ status: MessageStatus } | undefined>('status');
      if (current?.status === 'canceled') return { canceled: true };
      return { canceled: false, status: current?.status ?? 'pending' };
    },

    /** A dead letter that announces no state change (the record never became a message). */
    async enqueueAlone(record: OutboxRecord, now: Date): Promise<void> {
      await enqueue(db, [record], now);
    },

    /** The status of each known message among `ids` (unknown ids are left out: not consumed yet). */
    async statuses(ids: readonly string[]): Promise<Array<{ id: string; status: MessageStatus }>> {
      if (ids.length === 0) return [];
      return db('messages').select('id', 'status').whereIn('id', ids);
    },
    async view(id: string): Promise<DeliveryStatusView | undefined> {
      const m = await db('messages').where({ id }).first();
      if (!m) return undefined;
      const attempts = await db('attempts').where({ message_id: id }).orderBy('n');
      return {
        id: m.id,
        status: m.status,
        deliveryAttempts: m.attempts,
        lastAttemptedAt: m.last_attempted_at?.toISOString() ?? null,
        nextAttemptAt: m.status === 'retrying' && m.due_at ? m.due_at.toISOString() : null,
        errorMessage: m.error_message,
        providerMessageId: m.provider_message_id,
        attempts: attempts.map((a) => ({
          n: a.n,
          at: a.started_at.toISOString(),
          outcome: a.outcome,
          error: a.error,
          backoffMs: a.backoff_ms,
        })),
      };
    },
  };
}

export type MessageStore = ReturnType<typeof createMessageStore>;
