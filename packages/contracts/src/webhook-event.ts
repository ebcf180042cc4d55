import type { MessageStatus } from './channels';

/**
 * Merchant webhooks (docs/webhooks.md): the event types an endpoint can subscribe to, one per
 * message status a merchant acts on. `pending`, `scheduled` and `retrying` announce nothing.
 */
export const WEBHOOK_EVENT_TYPES = [
  'message.sent',
  'message.delivered',
  'message.bounced',
  'message.undelivered',
  'message.failed',
  'message.dead_lettered',
  'message.canceled',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The event a status change announces, or null when it announces none. */
export function webhookEventFor(status: MessageStatus): WebhookEventType | null {
  const type = `message.${status}`;
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type) ? (type as WebhookEventType) : null;
}

/** The JSON body a merchant receives (Standard Webhooks' recommended { type, timestamp, data } shape). */
export interface WebhookPayload {
  type: WebhookEventType;
  /** When the status changed (ISO 8601). */
  timestamp: string;
  data: {
    messageId: string;
    status: MessageStatus;
    deliveryAttempts: number;
    lastAttemptedAt: string | null;
  };
}

/**
 * One POST to make, on the webhook.deliver topic (key = endpoint id). `webhookId` is the
 * `webhook-id` header: the same on every retry of this event, so a receiver can drop repeats.
 * `body` is the exact text that is signed and sent, fixed when the event was enqueued.
 */
export interface WebhookDeliverRecord {
  v: 1;
  webhookId: string;
  endpointId: string;
  tenantId: string;
  messageId: string;
  type: WebhookEventType;
  body: string;
  /** 1 for the first POST; a retry carries the next number. */
  attempt: number;
  /** When the event was first enqueued: retries stop once it is older than the failure period. */
  firstEnqueuedAt: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The record in `text`, or null when it is not a well-formed WebhookDeliverRecord. */
export function parseWebhookDeliverRecord(text: string): WebhookDeliverRecord | null {
  let r: Partial<WebhookDeliverRecord> | null;
  try {
    r = JSON.parse(text) as Partial<WebhookDeliverRecord> | null;
  } catch {
    return null;
  }
  if (typeof r !== 'object' || r === null || r.v !== 1) return null;
  if (typeof r.webhookId !== 'string' || !/^msg_[A-Za-z0-9_-]{1,64}$/.test(r.webhookId)) return null;
  for (const id of [r.endpointId, r.tenantId, r.messageId]) if (typeof id !== 'string' || !UUID.test(id)) return null;
  if (!(WEBHOOK_EVENT_TYPES as readonly unknown[]).includes(r.type)) return null;
  if (typeof r.body !== 'string' || !Number.isSafeInteger(r.attempt) || (r.attempt ?? 0) < 1) return null;
  if (typeof r.firstEnqueuedAt !== 'string' || Number.isNaN(Date.parse(r.firstEnqueuedAt))) return null;
  return r as WebhookDeliverRecord;
}
