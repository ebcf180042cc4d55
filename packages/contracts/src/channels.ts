export const CHANNELS = ['email', 'sms', 'whatsapp', 'push'] as const;
export type Channel = (typeof CHANNELS)[number];

export const PRIORITIES = ['high', 'medium', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Statuses a client can read from GET /v1/messages/:id. */
export const MESSAGE_STATUSES = ['pending', 'sent', 'retrying', 'failed', 'dead_lettered', 'scheduled', 'canceled'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<MessageStatus> = new Set(['sent', 'failed', 'dead_lettered', 'canceled']);

export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && (CHANNELS as readonly string[]).includes(value);
}
