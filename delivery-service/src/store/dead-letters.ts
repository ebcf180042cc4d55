import { HEADERS, maskRecipient, recordKey, type Channel, type SendRecord, type Topics } from '@ca/contracts';
import { enqueue } from '@ca/outbox';
import type { Db } from '@ca/postgres';
import { syntheticTraceparent } from '@ca/telemetry';

const DEAD = ['failed', 'dead_lettered'];

export interface DeadLetterView {
  id: string;
  channel: Channel;
  /** Masked, as everywhere outside the provider call. */
  to: string;
  status: string;
  errorMessage: string | null;
  deliveryAttempts: number;
  redrives: number;
  traceId: string;
  deadLetteredAt: string;
}

export type RedriveResult = { found: false } | { found: true; redriven: boolean; status: string; redrives: number; traceId: string };

/**
 * A tenant's dead letters (messages that ended `failed` or `dead_lettered`), and their re-drive:
 * the same message id goes back on its channel's retry topic (through the outbox, in the same
 * transaction as the status change) in its original trace, with a fresh MAX_ATTEMPTS budget.
 * Idempotent: a message that is no longer dead (already re-driven, or sent) is left alone.
 */
export function createDeadLetterStore(db: Db, topics: Topics) {
  const view = (m: Record<string, unknown>): DeadLetterView => ({
    id: m.id as string,
    channel: m.channel as Channel,
    to: maskRecipient(m.channel as Channel, (m.recipient as string | null) ?? ''),
    status: m.status as string,
    errorMessage: (m.error_message as string | null) ?? null,
    deliveryAttempts: m.attempts as number,
    redrives: (m.redrives as number | undefined) ?? 0,
    traceId: m.trace_id as string,
    deadLetteredAt: (m.updated_at as Date).toISOString(),
  });
  return {
    async list(tenantId: string, limit: number): Promise<DeadLetterView[]> {
      const rows = await db('messages').where({ tenant_id: tenantId }).whereIn('status', DEAD).orderBy('updated_at', 'desc').limit(limit);
      return rows.map(view);
    },
    async get(tenantId: string, id: string): Promise<DeadLetterView | undefined> {
      const m = await db('messages').where({ tenant_id: tenantId, id }).whereIn('status', DEAD).first();
      return m ? view(m) : undefined;
    },
    async redrive(tenantId: string, id: string, now: Date): Promise<RedriveResult> {
      return db.transaction(async (trx) => {
        const m = await trx('messages').where({ tenant_id: tenantId, id }).forUpdate().first();
        if (!m) return { found: false } as const;
        if (!DEAD.includes(m.status)) return { found: true, redriven: false, status: m.status as string, redrives: m.redrives as number, traceId: m.trace_id as string };
        await trx('messages').where({ id }).update({
          status: 'retrying', attempt_base: m.attempts, redrives: m.redrives + 1, due_at: now, error_message: null, lease_owner: null, lease_until: null, updated_at: now,
        });
        const record: SendRecord = {
          v: 1, id, channel: m.channel, to: m.recipient, ...(m.subject ? { subject: m.subject } : {}), body: m.body, priority: m.priority,
          ...(m.correlation_id ? { correlationId: m.correlation_id } : {}), ...(m.metadata ? { metadata: m.metadata } : {}),
          createdAt: (m.created_at as Date).toISOString(), traceId: m.trace_id, tenantId,
        };
        await enqueue(trx, [{
          topic: topics.retry(record.channel),
          key: recordKey(record.channel, record.to),
          value: JSON.stringify(record),
          headers: { [HEADERS.messageId]: id, [HEADERS.channel]: record.channel, [HEADERS.attempt]: String(m.attempts + 1) },
          notBefore: null,
          // Joins the message's own trace: the re-drive's attempts appear under the same trace id.
          traceHeaders: { traceparent: syntheticTraceparent(record.traceId) },
          traceId: record.traceId,
        }], now);
        return { found: true, redriven: true, status: 'retrying', redrives: (m.redrives as number) + 1, traceId: m.trace_id as string };
      });
    },
  };
}

export type DeadLetterStore = ReturnType<typeof createDeadLetterStore>;
