import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { HEADERS, webhookEventFor, type MessageStatus, type Topics, type WebhookDeliverRecord, type WebhookEventType, type WebhookPayload } from '@ca/contracts';
import { enqueue, type OutboxRecord } from '@ca/outbox';
import { newWebhookId, newWebhookSecret } from './signing';

export interface WebhookEndpointView {
  id: string;
  url: string;
  description: string | null;
  events: WebhookEventType[];
  disabled: boolean;
  disabledAt: string | null;
  disabledReason: string | null;
  failingSince: string | null;
  createdAt: string;
}

export interface WebhookDeliveryView {
  id: string;
  webhookId: string;
  eventType: string;
  messageId: string;
  attempt: number;
  outcome: 'delivered' | 'failed' | 'refused' | 'abandoned';
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  at: string;
}

/** A status change the router's projection just applied (it announces a webhook event, maybe). */
export interface AppliedStatus {
  tenantId: string;
  messageId: string;
  status: MessageStatus;
  deliveryAttempts: number;
  lastAttemptedAt: string | null;
  at: string;
  /** W3C headers of the status event: the webhook POST joins the message's trace. */
  traceHeaders: Record<string, string>;
}

type Row = Record<string, unknown>;
const iso = (d: unknown) => (d ? new Date(d as string).toISOString() : null);

export function endpointView(r: Row): WebhookEndpointView {
  return {
    id: r.id as string,
    url: r.url as string,
    description: (r.description as string | null) ?? null,
    events: r.events as WebhookEventType[],
    disabled: r.disabled_at !== null && r.disabled_at !== undefined,
    disabledAt: iso(r.disabled_at),
    disabledReason: (r.disabled_reason as string | null) ?? null,
    failingSince: iso(r.failing_since),
    createdAt: iso(r.created_at)!,
  };
}

export async function createEndpoint(db: Knex, input: { tenantId: string; url: string; events: WebhookEventType[]; description?: string; now: Date }): Promise<{ view: WebhookEndpointView; secret: string }> {
  const secret = newWebhookSecret();
  const [row] = await db('webhook_endpoints').insert({
    tenant_id: input.tenantId, id: randomUUID(), url: input.url, description: input.description ?? null, events: input.events, secret, created_at: input.now,
  }).returning('*');
  return { view: endpointView(row as Row), secret };
}

export async function listEndpoints(db: Knex, tenantId: string): Promise<WebhookEndpointView[]> {
  const rows: Row[] = await db('webhook_endpoints').where({ tenant_id: tenantId }).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]);
  return rows.map(endpointView);
}

export async function getEndpoint(db: Knex, tenantId: string, id: string): Promise<(WebhookEndpointView & { secret: string }) | null> {
  const row = await db('webhook_endpoints').where({ tenant_id: tenantId, id }).first<Row | undefined>();
  return row ? { ...endpointView(row), secret: row.secret as string } : null;
}

export async function deleteEndpoint(db: Knex, tenantId: string, id: string): Promise<boolean> {
  return (await db('webhook_endpoints').where({ tenant_id: tenantId, id }).delete()) > 0;
}

export async function listDeliveries(db: Knex, tenantId: string, endpointId: string, limit: number): Promise<WebhookDeliveryView[]> {
  const rows: Row[] = await db('webhook_deliveries').where({ tenant_id: tenantId, endpoint_id: endpointId }).orderBy('id', 'desc').limit(limit);
  return rows.map((r) => ({
    id: String(r.id), webhookId: r.webhook_id as string, eventType: r.event_type as string, messageId: r.message_id as string, attempt: r.attempt as number,
    outcome: r.outcome as WebhookDeliveryView['outcome'], statusCode: (r.status_code as number | null) ?? null, durationMs: r.duration_ms as number,
    error: (r.error as string | null) ?? null, at: iso(r.at)!,
  }));
}

/**
 * Enqueues one webhook.deliver record per (applied status change × enabled endpoint of its tenant
 * subscribed to its event), inside the caller's transaction (the projection update's), so an
 * event is announced exactly when the projection took it. The body is fixed here: every retry
 * sends the same bytes under the same webhook-id.
 */
export async function enqueueWebhookEvents(trx: Knex.Transaction, topics: Topics, applied: readonly AppliedStatus[], now: Date): Promise<number> {
  const typed = applied.map((a) => ({ a, type: webhookEventFor(a.status) })).filter((x): x is { a: AppliedStatus; type: WebhookEventType } => x.type !== null);
  if (typed.length === 0) return 0;
  const tenants = [...new Set(typed.map((x) => x.a.tenantId))];
  const endpoints: Array<{ id: string; tenant_id: string; events: string[] }> = await trx('webhook_endpoints')
    .whereIn('tenant_id', tenants).whereNull('disabled_at').select('id', 'tenant_id', 'events');
  const records: OutboxRecord[] = [];
  for (const { a, type } of typed) {
    const payload: WebhookPayload = { type, timestamp: a.at, data: { messageId: a.messageId, status: a.status, deliveryAttempts: a.deliveryAttempts, lastAttemptedAt: a.lastAttemptedAt } };
    const body = JSON.stringify(payload);
    for (const e of endpoints) {
      if (e.tenant_id !== a.tenantId || !e.events.includes(type)) continue;
      const record: WebhookDeliverRecord = { v: 1, webhookId: newWebhookId(), endpointId: e.id, tenantId: a.tenantId, messageId: a.messageId, type, body, attempt: 1, firstEnqueuedAt: now.toISOString() };
      records.push(deliverRow(topics, record, a.traceHeaders, null));
    }
  }
  await enqueue(trx, records, now);
  return records.length;
}

/** The outbox row of a webhook.deliver record (key = endpoint id; notBefore: a retry's due time). */
export function deliverRow(topics: Topics, record: WebhookDeliverRecord, traceHeaders: Record<string, string> | null, notBefore: Date | null): OutboxRecord {
  return { topic: topics.webhookDeliver, key: record.endpointId, value: JSON.stringify(record), headers: { [HEADERS.messageId]: record.messageId }, traceHeaders, notBefore };
}
