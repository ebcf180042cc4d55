import { HttpProblem } from '@ca/http';

/**
 * Every error router-service answers with. `code` is stable (README "Problem codes"). Split by what
 * the client must do: fix the request (4xx but 409/429), wait and retry (409 in flight, 429, 503),
 * or stop (409 duplicate: the message already exists).
 */
export interface FieldError {
  field: string;
  message: string;
  type: string;
}

const RETRY_STORAGE_SECONDS = 5;
const RETRY_STATUS_SECONDS = 2;

export class ValidationFailed extends HttpProblem {
  constructor(readonly errors: FieldError[]) {
    super(400, 'VALIDATION_FAILED', 'Validation failed', `${errors.length} invalid field(s)`, { errors });
  }
}

export class IdempotencyKeyInvalid extends HttpProblem {
  constructor() {
    super(400, 'IDEMPOTENCY_KEY_INVALID', 'Invalid Idempotency-Key', 'Idempotency-Key must be 1-255 printable ASCII characters');
  }
}

export class UnsupportedMediaType extends HttpProblem {
  constructor() {
    super(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', 'Send the message as application/json');
  }
}

export class IdempotencyKeyInFlight extends HttpProblem {
  constructor(retryAfterSeconds: number) {
    super(409, 'IDEMPOTENCY_KEY_IN_FLIGHT', 'Request with this Idempotency-Key is in progress',
      'Another request with the same Idempotency-Key has not finished; retry later to get its response',
      {}, { 'Retry-After': String(Math.max(1, retryAfterSeconds)) });
  }
}

export class IdempotencyKeyReused extends HttpProblem {
  constructor() {
    super(422, 'IDEMPOTENCY_KEY_REUSED', 'Idempotency-Key reused with a different body',
      'This Idempotency-Key was already used for a different request body');
  }
}

export class DuplicateMessage extends HttpProblem {
  constructor(readonly duplicateOf: string) {
    super(409, 'DUPLICATE_MESSAGE', 'Duplicate message',
      'The same message to the same recipient was accepted within the deduplication window', { duplicateOf });
  }
}

export class RateLimited extends HttpProblem {
  constructor(retryAfterSeconds: number, limit: number) {
    super(429, 'RATE_LIMITED', 'Too many messages for this recipient',
      `At most ${limit} messages per minute per channel and recipient`, {}, { 'Retry-After': String(Math.max(1, retryAfterSeconds)) });
  }
}

export class MessageNotFound extends HttpProblem {
  constructor(id: string) {
    super(404, 'MESSAGE_NOT_FOUND', 'Message not found', `No message with id ${id}`);
  }
}

/** PostgreSQL could not take or read the message; nothing was accepted. */
export class StorageUnavailable extends HttpProblem {
  constructor() {
    super(503, 'STORAGE_UNAVAILABLE', 'Storage unavailable', 'The message store is unavailable; nothing was accepted. Retry later',
      {}, { 'Retry-After': String(RETRY_STORAGE_SECONDS) });
  }
}

/** delivery-service did not answer: the status is unknown, so none is guessed. */
export class StatusUnavailable extends HttpProblem {
  constructor() {
    super(503, 'STATUS_UNAVAILABLE', 'Delivery status unavailable', 'The delivery status cannot be read right now; retry later',
      {}, { 'Retry-After': String(RETRY_STATUS_SECONDS) });
  }
}

const UNAVAILABLE_NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN']);

/**
 * True when a database error means "PostgreSQL cannot take this right now" (connection refused or
 * lost, pool exhausted, server shutting down, serialization conflict) rather than a bug.
 */
export function isStorageUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.name === 'KnexTimeoutError') return true;
  const code = typeof e.code === 'string' ? e.code : '';
  if (UNAVAILABLE_NET_CODES.has(code)) return true;
  // SQLSTATE classes: 08 connection exception, 53 insufficient resources, 57 operator intervention;
  // 40001/40P01 serialization failure/deadlock: safe to retry.
  if (/^(08|53|57)/.test(code) || code === '40001' || code === '40P01') return true;
  if (err instanceof AggregateError) return err.errors.some(isStorageUnavailable);
  return typeof e.message === 'string' && /Connection terminated|connect ECONNREFUSED|Client has encountered a connection error/.test(e.message);
}

const REALM = 'communication-aggregator';

/**
 * 401: no key, a malformed one, or one that is unknown, revoked or expired. The detail never says
 * which of the last three, so a caller cannot probe for keys that once existed.
 */
export class Unauthorized extends HttpProblem {
  constructor(kind: 'missing' | 'malformed' | 'invalid') {
    const detail = {
      missing: 'Send an API key as "Authorization: Bearer <key>"',
      malformed: 'The Authorization header is not "Bearer <key>" with a well-formed key',
      invalid: 'The API key is not valid (unknown, revoked or expired)',
    }[kind];
    // RFC 6750 §3.1: a request without credentials gets the challenge without an error code.
    const challenge = kind === 'missing' ? `Bearer realm="${REALM}"` : `Bearer realm="${REALM}", error="invalid_token", error_description="${detail}"`;
    super(401, 'UNAUTHORIZED', 'Unauthorized', detail, {}, { 'WWW-Authenticate': challenge });
  }
}

export class InsufficientScope extends HttpProblem {
  constructor(scope: string) {
    super(403, 'INSUFFICIENT_SCOPE', 'Insufficient scope', `This API key lacks the "${scope}" scope`, { requiredScope: scope },
      { 'WWW-Authenticate': `Bearer realm="${REALM}", error="insufficient_scope", scope="${scope}"` });
  }
}

export class ApiKeyNotFound extends HttpProblem {
  constructor(id: string) {
    super(404, 'API_KEY_NOT_FOUND', 'API key not found', `No API key with id ${id}`);
  }
}

export class UserNotFound extends HttpProblem {
  constructor(userId: string) {
    super(404, 'USER_NOT_FOUND', 'User not found', `No user with id ${userId}`);
  }
}

export class TemplateNotFound extends HttpProblem {
  constructor(templateId: string, version?: number) {
    super(404, 'TEMPLATE_NOT_FOUND', 'Template not found', `No template ${templateId}${version === undefined ? '' : ` version ${version}`}`);
  }
}

export class TemplateExists extends HttpProblem {
  constructor(templateId: string, version: number) {
    super(409, 'TEMPLATE_EXISTS', 'Template already exists', `Template ${templateId} exists (version ${version}); PUT makes a new version`, { version });
  }
}

/** The template does not parse (Liquid syntax), or names a filter or tag that is not allowed. */
export class TemplateInvalid extends HttpProblem {
  constructor(readonly errors: FieldError[]) {
    super(400, 'TEMPLATE_INVALID', 'Template invalid', `${errors.length} invalid variant(s)`, { errors });
  }
}

/** Strict rendering: every variable the variant uses must be in templateParams. */
export class TemplateParamsMissing extends HttpProblem {
  constructor(readonly missing: string[]) {
    super(400, 'TEMPLATE_PARAMS_MISSING', 'Template parameters missing', `Missing templateParams: ${missing.join(', ')}`, { missing });
  }
}

/**
 * A notification that cannot go out as asked, and why: reason `unknown_user`, `unknown_template`,
 * `no_address`, `opted_out_channel`, `opted_out_category`, `no_variant`. Never a silent drop.
 */
export class NotificationUndeliverable extends HttpProblem {
  constructor(readonly reason: string, detail: string) {
    super(422, 'NOTIFICATION_UNDELIVERABLE', 'Notification cannot be delivered', detail, { reason });
  }
}

/** The rendered text breaks a channel limit (SMS segments, WhatsApp/push length, email subject). */
export class RenderedTooLong extends HttpProblem {
  constructor(detail: string, extensions: Record<string, unknown>) {
    super(422, 'RENDERED_MESSAGE_TOO_LONG', 'Rendered message too long', detail, extensions);
  }
}

/** Per-user (or per user and template) limit, policy `reject`. RateLimit fields as in api-key-rate-limit.ts. */
export class UserRateLimited extends HttpProblem {
  constructor(policy: { name: string; limit: number; windowSeconds: number }, retryAfterSeconds: number) {
    const retry = String(Math.max(1, retryAfterSeconds));
    super(429, 'USER_RATE_LIMITED', 'Too many notifications for this user',
      `At most ${policy.limit} per ${policy.windowSeconds} s (policy ${policy.name}); retry after the time in Retry-After`, { policy: policy.name },
      { 'Retry-After': retry, 'RateLimit-Policy': `"${policy.name}";q=${policy.limit};w=${policy.windowSeconds}`, RateLimit: `"${policy.name}";r=0;t=${retry}` });
  }
}

/** delivery-service could not mask its copy of a user's addresses: nothing was erased; retry the DELETE. */
export class ErasureUnavailable extends HttpProblem {
  constructor() {
    super(503, 'ERASURE_UNAVAILABLE', 'Erasure unavailable', 'Delivery records could not be masked right now; nothing was erased. Retry the DELETE',
      {}, { 'Retry-After': String(RETRY_STATUS_SECONDS) });
  }
}

/** Provider routes and suppressions live in delivery-service; it did not answer in time. */
export class DeliveryUnavailable extends HttpProblem {
  constructor() {
    super(503, 'DELIVERY_UNAVAILABLE', 'Delivery service unavailable', 'Provider routes and suppressions cannot be read or changed right now; retry later', {}, { 'Retry-After': '5' });
  }
}

/** Console sign-in: wrong email or password (never says which). */
export class SignInFailed extends HttpProblem {
  constructor() {
    super(401, 'SIGN_IN_FAILED', 'Sign-in failed', 'The email or password is not correct');
  }
}

/** Too many failed sign-ins for this account: locked until Retry-After. */
export class SignInLocked extends HttpProblem {
  constructor(retryAfterSeconds: number) {
    super(429, 'SIGN_IN_LOCKED', 'Too many failed sign-ins', `This account is locked after repeated failures; try again in ${retryAfterSeconds} s`,
      {}, { 'Retry-After': String(Math.max(1, retryAfterSeconds)) });
  }
}

/** A session-authenticated state change without our Origin or without the session's CSRF token. */
export class CsrfRejected extends HttpProblem {
  constructor(reason: 'origin' | 'token') {
    super(403, 'CSRF_REJECTED', 'Cross-site request refused',
      reason === 'origin' ? 'The request does not come from this site (Origin)' : 'Send the session\'s CSRF token in X-CSRF-Token');
  }
}

export class CampaignNotFound extends HttpProblem {
  constructor(id: string) {
    super(404, 'CAMPAIGN_NOT_FOUND', 'Campaign not found', `No campaign with id ${id}`);
  }
}

/** The campaign's status does not allow this (upload to a started campaign, cancel a finished one). */
export class CampaignStateConflict extends HttpProblem {
  constructor(status: string, action: string) {
    // Not `status`: in a problem that member is the HTTP status (RFC 9457 §3.1.2).
    super(409, 'CAMPAIGN_STATE_CONFLICT', 'Not possible in this campaign status', `A ${status} campaign cannot ${action}`, { campaignStatus: status });
  }
}

/** The uploaded file is not a usable recipients CSV as a whole (no header, no address column, too large). */
export class CsvRejected extends HttpProblem {
  constructor(detail: string) {
    super(400, 'CSV_REJECTED', 'Recipients file refused', detail);
  }
}

/** sendAt in the past, or further ahead than SCHEDULE_HORIZON_SECONDS. */
export class SendAtOutOfRange extends HttpProblem {
  constructor(reason: 'past' | 'beyond_horizon', horizonSeconds: number) {
    const detail = reason === 'past'
      ? '"sendAt" must be in the future (omit it to send now)'
      : `"sendAt" must be at most ${horizonSeconds} s ahead`;
    super(422, 'SEND_AT_OUT_OF_RANGE', 'sendAt out of range', detail,
      { errors: [{ field: 'sendAt', message: detail, type: `sendAt.${reason}` }], horizonSeconds });
  }
}

/** A provider call was made (or is under way): the message can no longer be canceled. */
export class MessageNotCancelable extends HttpProblem {
  constructor(readonly current: string) {
    super(409, 'MESSAGE_NOT_CANCELABLE', 'Message can no longer be canceled',
      // Not `status`: in a problem that member is the HTTP status (RFC 9457 §3.1.2).
      `The message is ${current}: a provider call was already made or is under way`, { messageStatus: current });
  }
}

/** POST /v1/messages/batch with more items than BATCH_MAX_ITEMS. */
export class BatchTooLarge extends HttpProblem {
  constructor(count: number, max: number) {
    super(413, 'BATCH_TOO_LARGE', 'Batch too large', `A batch holds at most ${max} items; this one has ${count}`, { maxItems: max, count });
  }
}

/** POST /v1/webhooks: the destination may not be called (docs/webhooks.md "SSRF"); `reason` says why. */
export class WebhookUrlRefused extends HttpProblem {
  constructor(reason: string) {
    super(422, 'WEBHOOK_URL_REFUSED', 'Webhook URL refused', `The webhook URL may not be called: ${reason}`, { reason });
  }
}

export class WebhookNotFound extends HttpProblem {
  constructor(id: string) {
    super(404, 'WEBHOOK_NOT_FOUND', 'Webhook endpoint not found', `No webhook endpoint with id ${id}`);
  }
}
