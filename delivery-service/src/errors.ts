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
export const invalidErasure = (detail: string) => new HttpProblem(400, 'INVALID_ERASURE', 'Invalid erasure request', detail);

// Provider routes and suppressions (issue 11), internal API:
//   INVALID_TENANT_ID        (HTTP 400)  the tenant id is not a uuid
//   INVALID_PROVIDER_ROUTE   (HTTP 400)  PUT .../providers/:channel body invalid (every field listed)
//   CREDENTIALS_KEY_MISSING  (HTTP 409)  credentials sent but PROVIDER_CREDENTIALS_KEY is not configured
//   PROVIDER_ROUTE_NOT_FOUND (HTTP 404)  no route for that tenant and channel
//   SUPPRESSION_NOT_FOUND    (HTTP 404)  the address is not on the tenant's suppression list
//   UNKNOWN_CHANNEL          (HTTP 404)  the channel in the path is not one of email, sms, whatsapp, push
//   INVALID_STATS_QUERY      (HTTP 400)  delivery-stats without valid `since` and `recentSince` instants
export const invalidStatsQuery = () => new HttpProblem(400, 'INVALID_STATS_QUERY', 'Invalid stats query', '`since` and `recentSince` must be ISO 8601 instants');
export const invalidTenantId = () => new HttpProblem(400, 'INVALID_TENANT_ID', 'Invalid tenant id', 'The tenant id must be a UUID');
export const invalidProviderRoute = (detail: string, errors: Array<{ field: string; message: string }>) =>
  new HttpProblem(400, 'INVALID_PROVIDER_ROUTE', 'Invalid provider route', detail, { errors });
export const credentialsKeyMissing = () => new HttpProblem(409, 'CREDENTIALS_KEY_MISSING', 'Credentials cannot be stored', 'PROVIDER_CREDENTIALS_KEY is not configured on delivery-service, so provider credentials cannot be stored encrypted');
export const providerRouteNotFound = (channel: string) => new HttpProblem(404, 'PROVIDER_ROUTE_NOT_FOUND', 'Provider route not found', `No provider route for channel ${channel}`);
export const suppressionNotFound = () => new HttpProblem(404, 'SUPPRESSION_NOT_FOUND', 'Suppression not found', 'That address is not on the suppression list');
export const unknownChannel = (channel: string) => new HttpProblem(404, 'UNKNOWN_CHANNEL', 'Unknown channel', `No channel named ${channel.slice(0, 40)}`);
export const invalidMessageIds = () => new HttpProblem(400, 'INVALID_MESSAGE_IDS', 'Invalid message ids', 'Send { "ids": [...] }: at most 1000 message UUIDs');
export const invalidCancelRequest = (detail: string) => new HttpProblem(400, 'INVALID_CANCEL_REQUEST', 'Invalid cancel request', detail);
export const messageNotCancelable = (status: string) =>
  new HttpProblem(409, 'MESSAGE_NOT_CANCELABLE', 'Message can no longer be canceled', `The message is ${status}`, { status });

// Dead letters (issue 11 item 7), internal API:
//   DEAD_LETTER_NOT_FOUND (HTTP 404)  no failed or dead-lettered message with that id for the tenant
export const deadLetterNotFound = (id: string) => new HttpProblem(404, 'DEAD_LETTER_NOT_FOUND', 'Dead letter not found', `No dead-lettered message ${id} for this tenant`);

// Delivery receipts (issue 11 item 5), public callbacks from providers:
//   RECEIPT_SIGNATURE_INVALID (HTTP 403)  X-Twilio-Signature / X-Sim-Signature missing or wrong
//   INVALID_RECEIPT           (HTTP 400)  a well-signed receipt without the fields it needs
//   RECEIPTS_NOT_CONFIGURED   (HTTP 404)  PUBLIC_URL (Twilio) or SIM_RECEIPT_SECRET (simulator) is not set
export const receiptSignatureInvalid = (detail: string) => new HttpProblem(403, 'RECEIPT_SIGNATURE_INVALID', 'Receipt signature invalid', detail);
export const invalidReceipt = (detail: string) => new HttpProblem(400, 'INVALID_RECEIPT', 'Invalid receipt', detail);
export const receiptsNotConfigured = (detail: string) => new HttpProblem(404, 'RECEIPTS_NOT_CONFIGURED', 'Receipts not configured', detail);
