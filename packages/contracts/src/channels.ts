export const CHANNELS = ['email', 'sms', 'whatsapp', 'push'] as const;
export type Channel = (typeof CHANNELS)[number];

export const PRIORITIES = ['high', 'medium', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

/**
 * Statuses a client can read from GET /v1/messages/:id. `sent` means a provider accepted it;
 * `delivered`, `bounced` and `undelivered` come later from the provider's delivery receipt
 * (docs/webhooks.md "Receipts"): delivered reached the recipient, bounced was refused by the
 * recipient's side (a hard bounce), undelivered could not be delivered (carrier/handset/expiry).
 */
export const MESSAGE_STATUSES = ['pending', 'sent', 'retrying', 'failed', 'dead_lettered', 'scheduled', 'canceled', 'delivered', 'bounced', 'undelivered'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** No attempt follows (a receipt may still move `sent` on to one of RECEIPT_STATUSES). */
export const TERMINAL_STATUSES: ReadonlySet<MessageStatus> = new Set(['sent', 'failed', 'dead_lettered', 'canceled', 'delivered', 'bounced', 'undelivered']);

/** The statuses only a delivery receipt sets, each reachable from `sent` only and final (monotonic). */
export const RECEIPT_STATUSES = ['delivered', 'bounced', 'undelivered'] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];

export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && (CHANNELS as readonly string[]).includes(value);
}
