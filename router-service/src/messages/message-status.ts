import type { Knex } from 'knex';
import { maskFreeText, maskRecipient, type MessageStatus, type MessageView } from '@ca/contracts';
import { HttpProblem } from '@ca/http';
import { MessageNotFound, StorageUnavailable, isStorageUnavailable } from '../errors';
import { fetchDeliveryStatus, type Fetch } from './delivery-client';
import { findMessage } from './message-store';
import { selfLink, traceLink } from './message-links';

export interface StatusDeps {
  db: Knex;
  fetch: Fetch;
  /** Decides scheduled vs pending for a message delivery-service has not seen (absent: wall clock). */
  clock?: { now(): Date };
  settings: { deliveryUrl: string; deliveryTimeoutMs: number; traceViewUrl: string; serviceToken: string | null };
}

/**
 * GET /v1/messages/:id by API composition: what was asked (router's message row) plus what happened
 * (delivery-service's ledger). Delivery state has one owner, so the router never stores a status.
 */
export async function readMessageView(deps: StatusDeps, id: string, tenantId: string): Promise<MessageView> {
  let row;
  try {
    row = await findMessage(deps.db, id, tenantId);
  } catch (err) {
    if (err instanceof HttpProblem || !isStorageUnavailable(err)) throw err;
    throw new StorageUnavailable();
  }
  // Another merchant's message is "not found", never "forbidden": no oracle for ids.
  if (!row) throw new MessageNotFound(id);
  const delivery = await fetchDeliveryStatus({ fetch: deps.fetch, deliveryUrl: deps.settings.deliveryUrl, timeoutMs: deps.settings.deliveryTimeoutMs, serviceToken: deps.settings.serviceToken }, id);
  return {
    id: row.id,
    channel: row.channel,
    to: maskRecipient(row.channel, row.recipient),
    status: delivery?.status ?? routerStatus(row, (deps.clock ?? { now: () => new Date() }).now()),
    priority: row.priority,
    correlationId: row.correlation_id,
    createdAt: row.created_at.toISOString(),
    lastAttemptedAt: delivery?.lastAttemptedAt ?? null,
    deliveryAttempts: delivery?.deliveryAttempts ?? 0,
    // Provider errors may quote the recipient; the API shows it masked like `to`.
    errorMessage: delivery?.errorMessage ? maskFreeText(delivery.errorMessage) : null,
    attempts: (delivery?.attempts ?? []).map((a) => ({ ...a, error: a.error ? maskFreeText(a.error) : null })),
    traceId: row.trace_id,
    links: { self: selfLink(row.id), trace: traceLink(deps.settings.traceViewUrl, row.trace_id) },
    sendAt: row.send_at ? row.send_at.toISOString() : null,
    userId: row.user_id,
    templateId: row.template_id,
    templateVersion: row.template_version,
    deferredBy: row.deferred_by,
  };
}

/** Status of a message delivery-service has no record of: canceled here, waiting for sendAt, or on its way. */
function routerStatus(row: { canceled_at: Date | null; send_at: Date | null }, now: Date): MessageStatus {
  if (row.canceled_at) return 'canceled';
  if (row.send_at && row.send_at.getTime() > now.getTime()) return 'scheduled';
  return 'pending';
}
