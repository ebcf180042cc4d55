/**
 * Kafka header names. W3C trace context headers use their standard names so any
 * OpenTelemetry propagator (and the kafkajs instrumentation) reads them.
 */
export const HEADERS = {
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  baggage: 'baggage',
  messageId: 'x-message-id',
  channel: 'x-channel',
  attempt: 'x-attempt',
  /** The merchant that sent the message; delivery rows and dead letters carry it on. */
  tenantId: 'x-tenant-id',
  /** Dead-letter records: why the record could not be delivered. */
  dlqReason: 'x-dead-letter-reason',
  dlqError: 'x-dead-letter-error',
  dlqSourceTopic: 'x-dead-letter-source-topic',
} as const;

export const HTTP_HEADERS = {
  idempotencyKey: 'idempotency-key',
  traceparent: 'traceparent',
  traceresponse: 'traceresponse',
} as const;

export const DEAD_LETTER_REASONS = {
  permanentFailure: 'permanent_failure',
  retriesExhausted: 'retries_exhausted',
  malformed: 'malformed_record',
} as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[keyof typeof DEAD_LETTER_REASONS];
