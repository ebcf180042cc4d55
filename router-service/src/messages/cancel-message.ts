import type { Knex } from 'knex';
import { HEADERS, topicsFor, type CanceledView } from '@ca/contracts';
import { HttpProblem } from '@ca/http';
import { currentTraceHeaders, type Logger } from '@ca/telemetry';
import { enqueueWebhookEvents } from '../webhooks/webhook-store';
import type { Clock } from '../clock';
import { MessageNotCancelable, MessageNotFound, StorageUnavailable, isStorageUnavailable } from '../errors';
import { cancelInDelivery, fetchDeliveryStatus, type Fetch } from './delivery-client';
import { findMessage } from './message-store';

export interface CancelDeps {
  db: Knex;
  fetch: Fetch;
  clock: Clock;
  logger: Logger;
  settings: { deliveryUrl: string; deliveryTimeoutMs: number; serviceToken: string | null; cancelSettleMs: number; topicPrefix: string };
}

/** message.canceled for the merchant's webhooks, in the transaction that cancels (docs/webhooks.md). */
async function announceCanceled(trx: Knex.Transaction, deps: CancelDeps, id: string, tenantId: string, at: Date): Promise<void> {
  await enqueueWebhookEvents(trx, topicsFor(deps.settings.topicPrefix), [{
    tenantId, messageId: id, status: 'canceled', deliveryAttempts: 0, lastAttemptedAt: null, at: at.toISOString(), traceHeaders: currentTraceHeaders(),
  }], at);
}

const SETTLE_POLL_MS = 50;

/**
 * Cancels a message that no provider call has touched. Two places can hold it:
 *  1. still in our outbox, never handed to a producer (claim_token null: a scheduled message, or one
 *     the relay has not reached): deleting that row in the transaction that marks the message
 *     canceled means it never reaches Kafka;
 *  2. otherwise delivery-service decides, under the row lock its claim takes (a tombstone when it
 *     has not consumed the record yet): canceled with no provider call, or the current status.
 * A cancel that meets an attempt in flight waits up to cancelSettleMs for its outcome, so the 409
 * names where the message ended (sent, retrying, ...) rather than "pending".
 */
export async function cancelMessage(deps: CancelDeps, id: string, tenantId: string): Promise<CanceledView> {
  try {
    const row = await findMessage(deps.db, id, tenantId);
    if (!row) throw new MessageNotFound(id);
    if (row.canceled_at) return canceledView(id, row.canceled_at);

    const now = deps.clock.now();
    const local = await deps.db.transaction(async (trx) => {
      const removed = await trx('outbox')
        .whereRaw(`headers->>'${HEADERS.messageId}' = ?`, [id])
        .whereNull('claim_token')
        .delete();
      if (removed === 0) return false;
      await trx('messages').where({ id, tenant_id: tenantId }).update({ canceled_at: now, status: 'canceled' });
      await announceCanceled(trx, deps, id, tenantId, now);
      return true;
    });
    if (local) {
      deps.logger.info('message canceled before publishing', { messageId: id });
      return canceledView(id, now);
    }

    const client = { fetch: deps.fetch, deliveryUrl: deps.settings.deliveryUrl, timeoutMs: deps.settings.deliveryTimeoutMs, serviceToken: deps.settings.serviceToken };
    const outcome = await cancelInDelivery(client, id, {
      tenantId, channel: row.channel, priority: row.priority, traceId: row.trace_id, createdAt: row.created_at.toISOString(),
    });
    if (outcome.canceled) {
      const at = deps.clock.now();
      await deps.db.transaction(async (trx) => {
        const n = await trx('messages').where({ id, tenant_id: tenantId }).whereNull('canceled_at').update({ canceled_at: at, status: 'canceled' });
        if (n > 0) await announceCanceled(trx, deps, id, tenantId, at);
      });
      deps.logger.info('message canceled in delivery', { messageId: id });
      return canceledView(id, at);
    }
    let status = outcome.status;
    // pending here means "claimed, a provider call may be under way": wait for its outcome.
    const deadline = Date.now() + deps.settings.cancelSettleMs;
    while (status === 'pending' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
      status = (await fetchDeliveryStatus(client, id))?.status ?? status;
    }
    throw new MessageNotCancelable(status);
  } catch (err) {
    if (err instanceof HttpProblem || !isStorageUnavailable(err)) throw err;
    throw new StorageUnavailable();
  }
}

function canceledView(id: string, at: Date): CanceledView {
  return { id, status: 'canceled', canceledAt: at.toISOString() };
}
