import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { ATTR, DEAD_LETTER_REASONS, HEADERS, SPAN, maskRecipient, type Channel, type SendRecord } from '@ca/contracts';
import { currentTraceHeaders, inSpan, type Logger } from '@ca/telemetry';
import { MalformedRecordError, PermanentDeliveryError, RateLimitedDeliveryError, type DeliveryError } from '../errors';
import type { Providers } from '../providers/provider';
import type { MessageStore } from '../store/message-store';
import type { DeadLetterPublisher } from '../dead-letter/dead-letter-publisher';
import { backoffDelayMs, type BackoffPolicy } from '../retry/backoff';
import { classifyFailure, classifyThrown } from './classify-outcome';
import { parseSendRecord } from './parse-record';

export interface DeliveryPolicy {
  maxAttempts: number;
  backoff: BackoffPolicy;
  leaseMs: number;
  providerTimeoutMs: number;
}

export interface DeliveryWorkerDeps {
  store: MessageStore;
  providers: Providers;
  deadLetters: DeadLetterPublisher;
  policy: DeliveryPolicy;
  clock: { now(): Date };
  random: () => number;
  logger: Logger;
  workerId: string;
}

export type HandleOutcome = 'sent' | 'retry_scheduled' | 'failed' | 'dead_lettered' | 'malformed' | 'skipped' | 'fenced';

export interface IncomingRecord {
  topic: string;
  value: Buffer | null;
  headers: Record<string, string>;
}

const TRACE_KEYS = [HEADERS.traceparent, HEADERS.tracestate, HEADERS.baggage];

/**
 * Handles one record from send.<channel> or send.<channel>.retry. Never throws for a bad record or
 * a failed send (those become dead letters or scheduled retries); throws only when PostgreSQL or
 * Kafka itself fails, so the offset is not committed and the record comes again.
 *
 * Exactly-once effect: claim (lease + fence) → ledger intent → provider call keyed by message id
 * → fenced commit of the outcome. A crash after the call repeats the call with the same key, and
 * the provider returns the original result without a second effect.
 */
export function createDeliveryWorker(deps: DeliveryWorkerDeps) {
  const { store, providers, deadLetters, policy, clock, logger } = deps;

  async function handle(channel: Channel, incoming: IncomingRecord): Promise<HandleOutcome> {
    let record: SendRecord;
    try {
      record = parseSendRecord(incoming.value, channel);
    } catch (err) {
      if (!(err instanceof MalformedRecordError)) throw err;
      return deadLetterMalformed(channel, incoming, err);
    }
    await store.saveReceived(record, clock.now());
    const claim = await store.claim(record.id, deps.workerId, clock.now(), policy.leaseMs);
    const log = logger.child({ messageId: record.id, channel });
    if (!claim) {
      log.debug('record skipped: message is finished, not yet due, or held by another worker');
      return 'skipped';
    }
    return inSpan(
      SPAN.attempt,
      {
        [ATTR.messageId]: record.id,
        [ATTR.channel]: channel,
        [ATTR.attempt]: claim.attempt,
        [ATTR.maxAttempts]: policy.maxAttempts,
        [ATTR.fence]: claim.fence,
        [ATTR.recipientMasked]: maskRecipient(channel, record.to),
      },
      (span) => attempt(record, claim, incoming, span, log),
    );
  }

  async function attempt(record: SendRecord, claim: { fence: number; attempt: number }, incoming: IncomingRecord, span: Span, log: Logger): Promise<HandleOutcome> {
    const startedAt = clock.now();
    const ledger = await store.ledgerIntent(record.id, claim.fence, startedAt);
    if (ledger === 'fenced') {
      span.setAttribute(ATTR.attemptOutcome, 'fenced');
      return 'fenced';
    }
    const provider = providers[record.channel];
    let failure: DeliveryError | null = null;
    let providerMessageId: string | null = null;
    if (ledger === 'delivered') {
      // The effect happened and was recorded; only the status write was lost. Do not call again.
      providerMessageId = (await store.ledgerEntry(record.id))?.providerMessageId ?? null;
    } else {
      await inSpan(
        SPAN.providerSend,
        { [ATTR.provider]: provider.name, [ATTR.channel]: record.channel, [ATTR.recipientMasked]: maskRecipient(record.channel, record.to), [ATTR.messageId]: record.id, 'peer.service': provider.name },
        async (pspan) => {
          try {
            const result = await provider.send(
              { idempotencyKey: record.id, channel: record.channel, to: record.to, subject: record.subject, body: record.body },
              AbortSignal.timeout(policy.providerTimeoutMs),
            );
            if (result.ok) providerMessageId = result.providerMessageId;
            else failure = classifyFailure(result);
          } catch (err) {
            failure = classifyThrown(err);
          }
          if (providerMessageId) pspan.setAttribute(ATTR.providerMessageId, providerMessageId);
          if (failure) pspan.setStatus({ code: SpanStatusCode.ERROR, message: (failure as DeliveryError).message });
        },
        { kind: SpanKind.CLIENT },
      );
    }
    const traceContext = traceContextFor(incoming);
    const base = { id: record.id, fence: claim.fence, attempt: claim.attempt, worker: deps.workerId, startedAt, providerMessageId, traceContext };
    const f = failure as DeliveryError | null;

    if (!f) {
      span.setAttribute(ATTR.attemptOutcome, 'sent');
      const ok = await store.finishAttempt({ ...base, finishedAt: clock.now(), outcome: 'sent', error: null, status: 'sent', dueAt: null, backoffMs: null });
      if (!ok) return fencedOut(span, log);
      log.info('message sent', { attempt: claim.attempt, providerMessageId });
      return 'sent';
    }

    span.setStatus({ code: SpanStatusCode.ERROR, message: f.message });
    if (f instanceof RateLimitedDeliveryError) {
      // The provider asked us to wait: reschedule without using up an attempt.
      span.setAttribute(ATTR.attemptOutcome, 'rate_limited');
      const dueAt = new Date(clock.now().getTime() + f.retryAfterMs);
      const ok = await store.reschedule({ id: record.id, fence: claim.fence, dueAt, error: f.message, traceContext, now: clock.now() });
      return ok ? 'retry_scheduled' : fencedOut(span, log);
    }
    if (f instanceof PermanentDeliveryError) {
      span.setAttribute(ATTR.attemptOutcome, 'permanent_failure');
      await deadLetter(record, incoming, DEAD_LETTER_REASONS.permanentFailure, f.message, claim.attempt);
      const ok = await store.finishAttempt({ ...base, finishedAt: clock.now(), outcome: 'permanent_failure', error: f.message, status: 'failed', dueAt: null, backoffMs: null });
      if (!ok) return fencedOut(span, log);
      log.warn('message failed permanently', { attempt: claim.attempt, reason: f.message });
      return 'failed';
    }
    if (claim.attempt >= policy.maxAttempts) {
      span.setAttribute(ATTR.attemptOutcome, 'retries_exhausted');
      await deadLetter(record, incoming, DEAD_LETTER_REASONS.retriesExhausted, f.message, claim.attempt);
      const ok = await store.finishAttempt({ ...base, finishedAt: clock.now(), outcome: 'transient_failure', error: f.message, status: 'dead_lettered', dueAt: null, backoffMs: null });
      if (!ok) return fencedOut(span, log);
      log.warn('retries exhausted: message dead-lettered', { attempt: claim.attempt, reason: f.message });
      return 'dead_lettered';
    }
    const backoffMs = backoffDelayMs(policy.backoff, claim.attempt, deps.random);
    span.setAttribute(ATTR.attemptOutcome, 'transient_failure');
    span.setAttribute(ATTR.backoffMs, backoffMs);
    const finishedAt = clock.now();
    const dueAt = new Date(finishedAt.getTime() + backoffMs);
    const ok = await store.finishAttempt({ ...base, finishedAt, outcome: 'transient_failure', error: f.message, status: 'retrying', dueAt, backoffMs });
    if (!ok) return fencedOut(span, log);
    log.info('attempt failed transiently: retry scheduled', { attempt: claim.attempt, backoffMs, reason: f.message });
    return 'retry_scheduled';
  }

  function fencedOut(span: Span, log: Logger): HandleOutcome {
    span.setAttribute(ATTR.attemptOutcome, 'fenced');
    log.warn('outcome discarded: another worker took this message over after our lease expired');
    return 'fenced';
  }

  async function deadLetter(record: SendRecord, incoming: IncomingRecord, reason: string, error: string, attempts: number): Promise<void> {
    await inSpan(SPAN.deadLetter, { [ATTR.messageId]: record.id, [ATTR.deadLetterReason]: reason }, () =>
      deadLetters.publish(
        { v: 1, reason, error, sourceTopic: incoming.topic, messageId: record.id, channel: record.channel, attempts, record, deadLetteredAt: clock.now().toISOString() },
        pickTrace(incoming.headers),
      ),
    );
  }

  async function deadLetterMalformed(channel: Channel, incoming: IncomingRecord, err: MalformedRecordError): Promise<HandleOutcome> {
    const raw = incoming.value?.toString('utf8') ?? '';
    await inSpan(SPAN.deadLetter, { [ATTR.deadLetterReason]: DEAD_LETTER_REASONS.malformed, [ATTR.channel]: channel }, () =>
      deadLetters.publish(
        { v: 1, reason: DEAD_LETTER_REASONS.malformed, error: err.message, sourceTopic: incoming.topic, messageId: incoming.headers[HEADERS.messageId], channel, record: raw.slice(0, 100_000), deadLetteredAt: clock.now().toISOString() },
        pickTrace(incoming.headers),
      ),
    );
    logger.warn('malformed record dead-lettered', { topic: incoming.topic, reason: err.message });
    return 'malformed';
  }

  return { handle };
}

function pickTrace(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(TRACE_KEYS.filter((k) => headers[k]).map((k) => [k, headers[k]!]));
}

/** The trace context the next attempt continues from: this attempt's span, else the incoming one. */
function traceContextFor(incoming: IncomingRecord): Record<string, string> {
  const current = currentTraceHeaders();
  return Object.keys(current).length ? current : pickTrace(incoming.headers);
}

export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>;
