import { MESSAGE_STATUSES, type MessageStatus } from './channels';

/**
 * A delivery status change, published by delivery-service (through its outbox, in the transaction
 * that records the attempt) on the status topic with key = message id, so one message's events stay
 * in order. `version` is the fence of the claim that wrote it: it grows with every claim, so a
 * consumer keeps the event with the highest version and ignores replays of older ones.
 */
export interface StatusEvent {
  v: 1;
  id: string;
  tenantId: string | null;
  status: MessageStatus;
  version: number;
  deliveryAttempts: number;
  lastAttemptedAt: string | null;
  at: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The event in `text`, or null when it is not a well-formed status event. */
export function parseStatusEvent(text: string): StatusEvent | null {
  let e: Partial<StatusEvent> | null;
  try {
    e = JSON.parse(text) as Partial<StatusEvent> | null;
  } catch {
    return null;
  }
  if (typeof e !== 'object' || e === null || e.v !== 1) return null;
  if (typeof e.id !== 'string' || !UUID.test(e.id)) return null;
  if (e.tenantId !== null && (typeof e.tenantId !== 'string' || !UUID.test(e.tenantId))) return null;
  if (!(MESSAGE_STATUSES as readonly unknown[]).includes(e.status)) return null;
  if (!Number.isSafeInteger(e.version) || !Number.isSafeInteger(e.deliveryAttempts)) return null;
  if (e.lastAttemptedAt !== null && (typeof e.lastAttemptedAt !== 'string' || Number.isNaN(Date.parse(e.lastAttemptedAt)))) return null;
  if (typeof e.at !== 'string' || Number.isNaN(Date.parse(e.at))) return null;
  return e as StatusEvent;
}
