import type { Knex } from 'knex';
import type { Channel, DeliveryStatsRow } from '@ca/contracts';

/**
 * One merchant's delivery numbers per channel and provider, from this service's own rows (the
 * owner of delivery state): every message it has seen since `since`, by its current status, and the
 * attempts beyond each message's first (retries). `sent` counts every message a provider accepted,
 * including those a delivery receipt has since moved on (delivered, bounced, undelivered), so turning
 * receipts on does not empty the column. `sentRecently`: sent since `recentSince` (the delivery
 * rate's window), by the accepting attempt's time (a receipt later moves updated_at, not that). The provider is the one the ledger pinned (a tenant route), else the
 * channel's default provider, the same name the delivery metrics use. Filtered by tenant_id first
 * (index messages_tenant_created_idx): no other merchant's row is read.
 */
/** The statuses of a message a provider accepted: `sent` and the receipt statuses that follow it. */
const ACCEPTED = "'sent', 'delivered', 'bounced', 'undelivered'";

export async function readDeliveryStats(
  db: Knex,
  q: { tenantId: string; since: Date; recentSince: Date; defaultProviders: Readonly<Record<Channel, string>> },
): Promise<DeliveryStatsRow[]> {
  const defaults = Object.entries(q.defaultProviders).map(([channel, name]) => ({ channel, name }));
  const result = await db.raw<{ rows: Array<Record<string, string | number>> }>(
    `SELECT m.channel, coalesce(l.provider, d.name, 'default') AS provider,
            count(*) FILTER (WHERE m.status IN (${ACCEPTED}))::int AS sent,
            count(*) FILTER (WHERE m.status IN ('failed', 'dead_lettered'))::int AS failed,
            count(*) FILTER (WHERE m.status = 'retrying')::int AS retrying,
            count(*) FILTER (WHERE m.status = 'pending')::int AS pending,
            coalesce(sum(greatest(m.attempts - coalesce(m.attempt_base, 0) - 1, 0)) FILTER (WHERE m.attempts > 0), 0)::int AS retries,
            count(*) FILTER (WHERE m.status IN (${ACCEPTED}) AND m.last_attempted_at >= ?)::int AS sent_recently
       FROM messages m
       LEFT JOIN delivery_ledger l ON l.message_id = m.id
       LEFT JOIN jsonb_to_recordset(CAST(? AS jsonb)) AS d(channel text, name text) ON d.channel = m.channel
      WHERE m.tenant_id = ? AND m.created_at >= ? AND m.status <> 'canceled'
      GROUP BY 1, 2
      ORDER BY 1, 2`,
    [q.recentSince, JSON.stringify(defaults), q.tenantId, q.since],
  );
  return result.rows.map((r) => ({
    channel: r.channel as Channel, provider: String(r.provider), sent: Number(r.sent), failed: Number(r.failed), retrying: Number(r.retrying),
    pending: Number(r.pending), retries: Number(r.retries), sentRecently: Number(r.sent_recently),
  }));
}
