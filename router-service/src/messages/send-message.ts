import { IdempotencyKeyInvalid } from '../errors';
import { isValidIdempotencyKey } from '../dedup/idempotency-keys';
import { acceptMessage, type AcceptDeps, type Accepted, type AcceptedInfo } from './accept-message';
import { validateMessage } from './validate-message';

export interface SendDeps {
  accept: AcceptDeps;
  /** Called after each accepted message (not a replay): wakes the outbox relay, counts it. */
  onAccepted: (accepted: AcceptedInfo) => void;
}

/**
 * The one send path behind POST /v1/messages and the GraphQL `sendMessage` mutation: key check,
 * validation (every invalid field), then the accept statement (dedup, idempotency, recipient limit).
 */
export async function sendMessage(deps: SendDeps, body: unknown, idempotencyKey: string | undefined, traceId: string, tenantId: string): Promise<Accepted> {
  if (idempotencyKey !== undefined && !isValidIdempotencyKey(idempotencyKey)) throw new IdempotencyKeyInvalid();
  const message = await validateMessage(body);
  const accepted = await acceptMessage(deps.accept, message, idempotencyKey, traceId, tenantId);
  if (!accepted.replayed) deps.onAccepted({ channel: message.channel, tenantId, priority: message.priority });
  return accepted;
}
