import { isValidIdempotencyKey } from '../dedup/idempotency-keys';
import { IdempotencyKeyInvalid } from '../errors';
import type { Accepted, AcceptedInfo } from '../messages/accept-message';
import { validateWith } from '../validation/validate-with';
import { acceptNotification, type NotificationDeps } from './accept-notification';
import { channelOf, notificationSchema, priorityOf, type NotificationRequest } from './notification-schema';

export interface SendNotificationDeps {
  accept: NotificationDeps;
  /** Called after each accepted notification (not a replay): wakes the outbox relay, counts it. */
  onAccepted: (accepted: AcceptedInfo) => void;
}

/**
 * The one notification path behind POST /v1/notifications and the GraphQL `sendNotification`
 * mutation: key check, validation (every invalid field), then acceptNotification (user, template,
 * opt-outs, per-user limits, the shared accept statement).
 */
export async function sendNotification(deps: SendNotificationDeps, body: unknown, idempotencyKey: string | undefined, traceId: string, tenantId: string): Promise<Accepted> {
  if (idempotencyKey !== undefined && !isValidIdempotencyKey(idempotencyKey)) throw new IdempotencyKeyInvalid();
  const request = validateWith<NotificationRequest>(notificationSchema, body);
  const accepted = await acceptNotification(deps.accept, request, idempotencyKey, traceId, tenantId);
  if (!accepted.replayed) deps.onAccepted({ channel: channelOf(request.type), tenantId, priority: priorityOf(request.priority) });
  return accepted;
}
