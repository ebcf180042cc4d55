import type { Knex } from 'knex';
import type { AttemptOutcome, DeliveryStatusView, MessageStatus, SendRecord } from '@ca/contracts';
import type { Db } from '@ca/postgres';

export interface Claim {
  fence: number;
  /** The attempt this claim will make (1-based). */
  attempt: number;
}

export interface AttemptResult {
  id: string;
  fence: number;
  attempt: number;
  worker: string;
  startedAt: Date;
  finishedAt: Date;
  outcome: AttemptOutcome;
  error: string | null;
  status: MessageStatus;
  /** Set when status is 'retrying': when the next attempt is due. */
  dueAt: Date | null;
  backoffMs: number | null;
  providerMessageId: string | null;
  traceContext: Record<string, string> | null;
}

const ACTIVE: MessageStatus[] = ['pending', 'retrying'];

/**
 * All of delivery-service's SQL. Every time is passed in from the injected clock (no now() in
 * SQL), so lease and retry timing are exact under test.
 */
export function createMessageStore(db: Db) {
  return {
    /** First sight of a record: keep the message (idempotent for redelivered records). */
    async saveReceived(record: SendRecord, now: Date): Promise<void> {
      await db('messages')
        .insert({
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
        })
        .onConflict('id')
        .ignore();
    },

    /**
     * Takes the message for one attempt: only if it is still active, nobody holds a live lease and
     * it is due. Bumps the fence; sets due_at to the lease expiry so that, if this worker dies, the
     * scheduler re-publishes the message once the lease has run out.
     */
    async claim(id: string, worker: string, now: Date, leaseMs: number): Promise<Claim | null> {
      const until = new Date(now.getTime() + leaseMs);
      const rows: Array<{ fence: string; attempts: number }> = await db('messages')
        .where({ id })
        .whereIn('status', ACTIVE)
        .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<=', now))
        .andWhere((q) => q.whereNull('due_at').orWhere('due_at', '<=', now))
        .update({ fence: db.raw('fence + 1'), lease_owner: worker, lease_until: until, due_at: until, republish_after: null, updated_at: now })
        .returning(['fence', 'attempts']);
      const row = rows[0];
      return row ? { fence: Number(row.fence), attempt: row.attempts + 1 } : null;
    },

    /** Ledger before the provider call: "a call with this fence may be under way". */
    async ledgerIntent(id: string, fence: number, now: Date): Promise<'go' | 'delivered' | 'fenced'> {
      return db.transaction(async (trx) => {
        const current = await trx('delivery_ledger').where({ message_id: id }).forUpdate().first('state', 'fence', 'provider_message_id');
        if (current?.state === 'delivered') return 'delivered';
        if (current && Number(current.fence) > fence) return 'fenced';
        await trx('delivery_ledger')
          .insert({ message_id: id, fence, state: 'calling', called_at: now })
          .onConflict('message_id')
          .merge({ fence, state: 'calling', called_at: now });
        return 'go';
      });
    },

    async ledgerEntry(id: string): Promise<{ state: string; providerMessageId: string | null } | undefined> {
      const row = await db('delivery_ledger').where({ message_id: id }).first('state', 'provider_message_id');
      return row ? { state: row.state, providerMessageId: row.provider_message_id } : undefined;
    },

    /**
     * Records an attempt's outcome atomically — status, attempt row and ledger — but only if the
     * fence is still ours. Returns false when another worker took the message over (we stalled
     * past our lease): our outcome is then discarded, theirs stands.
     */
    async finishAttempt(r: AttemptResult): Promise<boolean> {
      return db.transaction(async (trx) => {
        const updated = await trx('messages')
          .where({ id: r.id, fence: r.fence })
          .update({
            status: r.status,
            attempts: r.attempt,
            last_attempted_at: r.startedAt,
            due_at: r.dueAt,
            lease_owner: null,
            lease_until: null,
            republish_after: null,
            error_message: r.error,
            provider_message_id: r.providerMessageId,
            trace_context: r.traceContext ? JSON.stringify(r.traceContext) : null,
            updated_at: r.finishedAt,
          });
        if (updated === 0) return false;
        await trx('attempts')
          .insert({
            message_id: r.id,
            n: r.attempt,
            started_at: r.startedAt,
            finished_at: r.finishedAt,
            outcome: r.outcome,
            error: r.error,
            backoff_ms: r.backoffMs,
            provider_message_id: r.providerMessageId,
            worker: r.worker,
          })
          .onConflict(['message_id', 'n'])
          .merge();
        if (r.outcome === 'sent') {
          await trx('delivery_ledger').where({ message_id: r.id }).update({ state: 'delivered', provider_message_id: r.providerMessageId, delivered_at: r.finishedAt });
        }
        return true;
      });
    },

    /** Provider rate limit: try again at dueAt without counting an attempt. Fenced like finishAttempt. */
    async reschedule(r: { id: string; fence: number; dueAt: Date; error: string; traceContext: Record<string, string> | null; now: Date }): Promise<boolean> {
      const updated = await db('messages')
        .where({ id: r.id, fence: r.fence })
        .update({ status: 'retrying', due_at: r.dueAt, lease_owner: null, lease_until: null, republish_after: null, error_message: r.error, trace_context: r.traceContext ? JSON.stringify(r.traceContext) : null, updated_at: r.now });
      return updated > 0;
    },

    /**
     * Due rows to re-publish (retries whose time has come, and claims whose lease ran out), locked
     * so several delivery processes never pick the same row. `publish` runs inside the
     * transaction: if it throws, nothing is marked and the rows are picked up again next poll.
     */
    async republishDue(now: Date, limit: number, graceMs: number, publish: (rows: DueRow[]) => Promise<void>): Promise<number> {
      return db.transaction(async (trx: Knex.Transaction) => {
        const rows: DueRow[] = await trx('messages')
          .select('id', 'channel', 'recipient', 'subject', 'body', 'priority', 'correlation_id', 'metadata', 'trace_id', 'created_at', 'attempts', 'trace_context')
          .whereIn('status', ACTIVE)
          .andWhere('due_at', '<=', now)
          .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<=', now))
          .andWhere((q) => q.whereNull('republish_after').orWhere('republish_after', '<=', now))
          .orderBy('due_at')
          .limit(limit)
          .forUpdate()
          .skipLocked();
        if (rows.length === 0) return 0;
        await publish(rows);
        await trx('messages').whereIn('id', rows.map((r) => r.id)).update({ republish_after: new Date(now.getTime() + graceMs) });
        return rows.length;
      });
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

export interface DueRow {
  id: string;
  channel: string;
  recipient: string;
  subject: string | null;
  body: string;
  priority: string;
  correlation_id: string | null;
  metadata: Record<string, string | number | boolean> | null;
  trace_id: string;
  created_at: Date;
  attempts: number;
  trace_context: Record<string, string> | null;
}
