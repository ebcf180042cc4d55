import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { RECEIPT_STATUSES, type Channel } from '@ca/contracts';
import type { RecipientRow, RowRejection } from './csv-recipients';

export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'running', 'canceled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** accepted = sent + failed + pending + canceled, by construction (one pass over the recipients). */
export interface CampaignCounts {
  accepted: number;
  sent: number;
  failed: number;
  pending: number;
  canceled: number;
}

export interface CampaignView {
  id: string;
  name: string;
  channel: Channel;
  subject: string | null;
  body: string;
  /** draft → scheduled (send_at in the future) → running → (all terminal) completed; or canceled. */
  status: CampaignStatus | 'completed';
  sendAt: string | null;
  createdAt: string;
  startedAt: string | null;
  canceledAt: string | null;
  counts: CampaignCounts;
}

interface CampaignRow {
  id: string;
  tenant_id: string;
  name: string;
  channel: Channel;
  subject: string | null;
  body: string;
  status: CampaignStatus;
  send_at: Date | null;
  created_at: Date;
  started_at: Date | null;
  canceled_at: Date | null;
}

/** A recipient counts as sent once a provider accepted its message, whatever its receipt said since. */
const SENT_STATUSES: readonly string[] = ['sent', ...RECEIPT_STATUSES];
const SENT_SQL = SENT_STATUSES.map((s) => `'${s}'`).join(', ');

const COUNTS_SQL = `count(*)::int AS accepted,
  (count(*) FILTER (WHERE r.delivery_status IN (${SENT_SQL})))::int AS sent,
  (count(*) FILTER (WHERE r.delivery_status IN ('failed', 'dead_lettered')))::int AS failed,
  (count(*) FILTER (WHERE r.state = 'canceled'))::int AS canceled`;

function toView(row: CampaignRow, c: Omit<CampaignCounts, 'pending'>): CampaignView {
  const counts = { ...c, pending: c.accepted - c.sent - c.failed - c.canceled };
  const completed = row.status === 'running' && counts.pending === 0;
  return {
    id: row.id, name: row.name, channel: row.channel, subject: row.subject, body: row.body,
    status: completed ? 'completed' : row.status, sendAt: row.send_at?.toISOString() ?? null, createdAt: row.created_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null, canceledAt: row.canceled_at?.toISOString() ?? null, counts,
  };
}

export async function createCampaign(db: Knex, input: { tenantId: string; name: string; channel: Channel; subject: string | null; body: string; now: Date }): Promise<CampaignView> {
  const [row] = await db('campaigns').insert({
    id: randomUUID(), tenant_id: input.tenantId, name: input.name, channel: input.channel, subject: input.subject, body: input.body,
    status: 'draft', created_at: input.now,
  }).returning<CampaignRow[]>('*');
  return toView(row!, { accepted: 0, sent: 0, failed: 0, canceled: 0 });
}

export async function campaignCounts(db: Knex, campaignId: string): Promise<Omit<CampaignCounts, 'pending'>> {
  const { rows } = await db.raw<{ rows: Array<Omit<CampaignCounts, 'pending'>> }>(`SELECT ${COUNTS_SQL} FROM campaign_recipients r WHERE r.campaign_id = ?`, [campaignId]);
  return rows[0]!;
}

/** Another merchant's campaign is "not found". */
export async function findCampaign(db: Knex, tenantId: string, id: string): Promise<CampaignView | undefined> {
  const row = await db('campaigns').where({ id, tenant_id: tenantId }).first<CampaignRow | undefined>();
  return row && toView(row, await campaignCounts(db, id));
}

export async function listCampaigns(db: Knex, tenantId: string, limit = 100): Promise<CampaignView[]> {
  const { rows } = await db.raw<{ rows: Array<CampaignRow & Omit<CampaignCounts, 'pending'>> }>(
    `SELECT c.*, COALESCE(k.accepted, 0) AS accepted, COALESCE(k.sent, 0) AS sent, COALESCE(k.failed, 0) AS failed, COALESCE(k.canceled, 0) AS canceled
       FROM campaigns c
       LEFT JOIN LATERAL (SELECT ${COUNTS_SQL} FROM campaign_recipients r WHERE r.campaign_id = c.id) k ON true
      WHERE c.tenant_id = ? ORDER BY c.created_at DESC, c.id LIMIT ?`, [tenantId, limit]);
  return rows.map((r) => toView(r, r));
}

/**
 * Stores one batch of valid rows; rows already in the campaign (same file, or the same row twice)
 * are skipped by the primary key. Returns how many were new.
 */
export async function addRecipients(trx: Knex | Knex.Transaction, input: { tenantId: string; campaignId: string; rows: RecipientRow[]; now: Date }): Promise<number> {
  if (!input.rows.length) return 0;
  const inserted = await trx('campaign_recipients').insert(input.rows.map((r) => ({
    campaign_id: input.campaignId, row_key: r.rowKey, tenant_id: input.tenantId, line: r.line, recipient: r.to, user_id: r.userId,
    params: JSON.stringify(r.params), state: 'queued', created_at: input.now,
  }))).onConflict(['campaign_id', 'row_key']).ignore().returning('row_key');
  return inserted.length;
}

export interface UploadView {
  id: string;
  campaignId: string;
  rows: number;
  accepted: number;
  duplicates: number;
  rejectedCount: number;
  rejected: RowRejection[];
  createdAt: string;
}

export async function recordUpload(trx: Knex | Knex.Transaction, input: { tenantId: string; campaignId: string; rows: number; accepted: number; duplicates: number; rejected: RowRejection[]; now: Date }): Promise<UploadView> {
  const id = randomUUID();
  await trx('campaign_uploads').insert({
    id, campaign_id: input.campaignId, tenant_id: input.tenantId, rows: input.rows, accepted: input.accepted, duplicates: input.duplicates,
    rejected: JSON.stringify(input.rejected), created_at: input.now,
  });
  return { id, campaignId: input.campaignId, rows: input.rows, accepted: input.accepted, duplicates: input.duplicates, rejectedCount: input.rejected.length, rejected: input.rejected, createdAt: input.now.toISOString() };
}

export async function findUpload(db: Knex, tenantId: string, campaignId: string, uploadId: string): Promise<UploadView | undefined> {
  const row = await db('campaign_uploads').where({ id: uploadId, campaign_id: campaignId, tenant_id: tenantId })
    .first<{ id: string; campaign_id: string; rows: number; accepted: number; duplicates: number; rejected: RowRejection[]; created_at: Date } | undefined>();
  return row && {
    id: row.id, campaignId: row.campaign_id, rows: row.rows, accepted: row.accepted, duplicates: row.duplicates,
    rejectedCount: row.rejected.length, rejected: row.rejected, createdAt: row.created_at.toISOString(),
  };
}

/** draft → scheduled (or running when sendAt is now or past). Null when the campaign is not a draft. */
export async function startCampaign(db: Knex, input: { tenantId: string; id: string; sendAt: Date; now: Date }): Promise<boolean> {
  const due = input.sendAt <= input.now;
  const updated = await db('campaigns').where({ id: input.id, tenant_id: input.tenantId, status: 'draft' })
    .update({ status: due ? 'running' : 'scheduled', send_at: input.sendAt, started_at: due ? input.now : null });
  return updated > 0;
}

/**
 * Cancels a draft, scheduled or running campaign: every recipient not yet turned into a message is
 * canceled in the same transaction. The dispatcher takes the campaign row FOR SHARE while it
 * enqueues a batch, so a batch is either wholly enqueued before the cancel or not at all.
 */
export async function cancelCampaign(db: Knex, input: { tenantId: string; id: string; now: Date }): Promise<boolean> {
  return db.transaction(async (trx) => {
    const updated = await trx('campaigns').where({ id: input.id, tenant_id: input.tenantId }).whereIn('status', ['draft', 'scheduled', 'running'])
      .update({ status: 'canceled', canceled_at: input.now });
    if (!updated) return false;
    await trx('campaign_recipients').where({ campaign_id: input.id, state: 'queued' }).update({ state: 'canceled' });
    return true;
  });
}

export interface CampaignMessageView {
  line: number;
  to: string;
  userId: string | null;
  state: 'queued' | 'enqueued' | 'canceled';
  status: 'queued' | 'pending' | 'sent' | 'failed' | 'canceled';
  messageId: string | null;
  traceId: string | null;
}

export const MESSAGE_FILTERS = ['queued', 'pending', 'sent', 'failed', 'canceled'] as const;
export type MessageFilter = (typeof MESSAGE_FILTERS)[number];

export async function listCampaignMessages(db: Knex, input: { campaignId: string; status?: MessageFilter; afterLine: number; limit: number }): Promise<Array<Omit<CampaignMessageView, 'to'> & { recipient: string }>> {
  const q = db('campaign_recipients as r').leftJoin('messages as m', 'm.id', 'r.message_id')
    .select('r.line', 'r.recipient', 'r.user_id', 'r.state', 'r.delivery_status', 'r.message_id', 'm.trace_id')
    .where('r.campaign_id', input.campaignId).andWhere('r.line', '>', input.afterLine).orderBy('r.line').limit(input.limit);
  switch (input.status) {
    case 'queued': void q.where('r.state', 'queued'); break;
    case 'canceled': void q.where('r.state', 'canceled'); break;
    case 'sent': void q.whereIn('r.delivery_status', SENT_STATUSES); break;
    case 'failed': void q.whereIn('r.delivery_status', ['failed', 'dead_lettered']); break;
    case 'pending': void q.where('r.state', 'enqueued').whereNull('r.delivery_status'); break;
    default: break;
  }
  const rows = await q as Array<{ line: number; recipient: string; user_id: string | null; state: CampaignMessageView['state']; delivery_status: string | null; message_id: string | null; trace_id: string | null }>;
  return rows.map((r) => ({
    line: r.line, recipient: r.recipient, userId: r.user_id, state: r.state, messageId: r.message_id, traceId: r.trace_id,
    status: r.state === 'queued' ? 'queued' : r.state === 'canceled' ? 'canceled' : r.delivery_status && SENT_STATUSES.includes(r.delivery_status) ? 'sent' : r.delivery_status ? 'failed' : 'pending',
  }));
}
