import { HttpProblem } from '@ca/http';

/**
 * delivery-service's error catalogue. Provider outcomes are values (ProviderResult); these classes
 * are what the worker turns them into, in one place (worker/classify-outcome.ts).
 *
 *   code                    kind         what the worker does
 *   PROVIDER_PERMANENT      permanent    no retry: status failed, record to the dead-letter topic
 *   PROVIDER_TRANSIENT      transient    retry with backoff until MAX_ATTEMPTS, then dead-letter
 *   PROVIDER_RATE_LIMITED   rate-limited retry after retryAfterMs; does not use an attempt
 *   MALFORMED_RECORD        permanent    the record itself is unusable: dead-letter, keep consuming
 *   (SQLSTATE 22xxx/23xxx)  permanent    PostgreSQL refused the record's data: dead-letter with the code, keep consuming
 *   (any other DB error)    outage       handler throws: offset not committed, the partition waits and retries
 *   MESSAGE_NOT_FOUND       (HTTP 404)   GET /internal/v1/messages/:id for an id never consumed
 *   INVALID_MESSAGE_ID      (HTTP 400)   the id is not a uuid
 *   INVALID_CANCEL_REQUEST  (HTTP 400)   POST /internal/v1/messages/:id/cancel with a malformed body
 *   MESSAGE_NOT_CANCELABLE  (HTTP 409)   cancel after a provider call (body: the current status)
 */
export class PermanentDeliveryError extends Error {
  readonly code = 'PROVIDER_PERMANENT';
}
export class TransientDeliveryError extends Error {
  readonly code = 'PROVIDER_TRANSIENT';
}
export class RateLimitedDeliveryError extends Error {
  readonly code = 'PROVIDER_RATE_LIMITED';
  constructor(message: string, readonly retryAfterMs: number) {
    super(message);
  }
}
export class MalformedRecordError extends Error {
  readonly code = 'MALFORMED_RECORD';
}

export type DeliveryError = PermanentDeliveryError | TransientDeliveryError | RateLimitedDeliveryError;

export const messageNotFound = (id: string) => new HttpProblem(404, 'MESSAGE_NOT_FOUND', 'Message not found', `No delivery record for message ${id}`);
export const invalidMessageId = () => new HttpProblem(400, 'INVALID_MESSAGE_ID', 'Invalid message id', 'The message id must be a UUID');
export const invalidCancelRequest = (detail: string) => new HttpProblem(400, 'INVALID_CANCEL_REQUEST', 'Invalid cancel request', detail);
export const messageNotCancelable = (status: string) =>
  new HttpProblem(409, 'MESSAGE_NOT_CANCELABLE', 'Message can no longer be canceled', `The message is ${status}`, { status });
