/**
 * Our own span attribute names: one prefix (`ca.`), one table. Standard OpenTelemetry semantic
 * conventions (messaging.*, http.*, db.*) are used wherever one exists; these cover the rest.
 */
export const ATTR = {
  messageId: 'ca.message.id',
  channel: 'ca.channel',
  recipientMasked: 'ca.recipient.masked',
  priority: 'ca.priority',
  attempt: 'ca.attempt.number',
  attemptOutcome: 'ca.attempt.outcome',
  backoffMs: 'ca.attempt.backoff_ms',
  maxAttempts: 'ca.attempt.max',
  provider: 'ca.provider.name',
  providerMessageId: 'ca.provider.message_id',
  dedupOutcome: 'ca.dedup.outcome',
  idempotencyKeyPresent: 'ca.idempotency_key.present',
  route: 'ca.route.topic',
  deadLetterReason: 'ca.dead_letter.reason',
  validationErrors: 'ca.validation.error_count',
  fence: 'ca.lease.fence',
  /** The merchant a span acts for (stored as labels.tenant_id in APM documents). */
  tenantId: 'ca.tenant.id',
  /** A notification's template and the version it rendered, and the locale variant used. */
  templateId: 'ca.template.id',
  templateVersion: 'ca.template.version',
  templateLocale: 'ca.template.locale',
  /** Which per-user rate-limit policy decided, and how (`accepted`, `rejected`, `deferred`). */
  userRatePolicy: 'ca.user_rate.policy',
  userRateOutcome: 'ca.user_rate.outcome',
  /** Circuit state of the provider when the attempt chose it: closed | open | half_open. */
  circuitState: 'ca.provider.circuit',
  /** The providers this attempt could try, best first (comma-separated names). */
  providerCandidates: 'ca.provider.candidates',
  /** The provider an earlier ambiguous call pinned the message to (only it may be called). */
  providerPinned: 'ca.provider.pinned',
  /** Why the attempt ended where it did: sent | failover_exhausted | retry_same_provider | lookup_found | permanent | suppressed ... */
  routingDecision: 'ca.routing.decision',
  /** Each provider tried and what it answered, e.g. `a:not_accepted>b:sent`. */
  routingPath: 'ca.routing.path',
  /** The provider's own error code (Twilio 21211, FCM UNREGISTERED, SMTP 550). */
  providerErrorCode: 'ca.provider.error_code',
  /** POST /v1/messages/batch: items in the request, and how many passed validation. */
  batchItems: 'ca.batch.items',
  batchValid: 'ca.batch.valid',
  /** A cancel's outcome: canceled_locally, canceled_in_delivery, not_cancelable. */
  cancelOutcome: 'ca.cancel.outcome',
  /** Which injected fault (packages/faults) bit here, e.g. `provider.outage`; see README "Failure scenarios". */
  faultInjected: 'ca.fault.injected',
  /** The delay an injected latency fault added, in ms. */
  faultDelayMs: 'ca.fault.delay_ms',
  /** A delivery receipt: the provider's own status word (Twilio `delivered`, `failed`) and what it became. */
  receiptProviderStatus: 'ca.receipt.provider_status',
  receiptOutcome: 'ca.receipt.outcome',
  /** A merchant webhook POST: the endpoint, the event type, and which try it is (1-based). */
  webhookEndpointId: 'ca.webhook.endpoint_id',
  webhookEventType: 'ca.webhook.event_type',
  webhookAttempt: 'ca.webhook.attempt',
} as const;

/** Manual span names (auto-instrumentation names its own). */
export const SPAN = {
  validate: 'message.validate',
  dedup: 'message.dedup',
  route: 'message.route',
  relay: 'outbox.relay',
  attempt: 'delivery.attempt',
  providerSend: 'provider.send',
  deadLetter: 'delivery.dead_letter',
  scheduleRetry: 'delivery.schedule_retry',
  render: 'template.render',
  batchValidate: 'batch.validate',
  batchStore: 'batch.store',
  cancel: 'message.cancel',
  /** A provider's delivery receipt applied to a message: in the message's trace, linked to the attempt span. */
  receipt: 'message.receipt',
  /** One POST of a status event to a merchant's webhook endpoint (CLIENT span in the message's trace). */
  webhookDeliver: 'webhook.deliver',
  /** Marks an injected fault (packages/faults) where no span of ours is at hand, e.g. under a failed produce. */
  faultInjected: 'fault.injected',
} as const;
