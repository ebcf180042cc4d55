import { context, SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { ATTR, DEAD_LETTER_REASONS, HEADERS, SPAN, maskRecipient, recordKey, type Channel, type SendRecord, type StatusEvent, type Topics } from '@ca/contracts';
import { createDeliveryMetrics, type DeliveryMetrics } from '@ca/metrics';
import type { OutboxRecord } from '@ca/outbox';
import { contextFromHeaders, currentTraceHeaders, inSpan, type Logger } from '@ca/telemetry';
import { MalformedRecordError, PermanentDeliveryError, RateLimitedDeliveryError, type DeliveryError } from '../errors';
import type { Providers } from '../providers/provider';
import type { AttemptResult, Claim, ClaimRequest, MessageStore } from '../store/message-store';
import { createBatcher } from '../store/batcher';
import { isDataError } from '../store/pg-errors';
import { backoffDelayMs, type BackoffPolicy } from '../retry/backoff';
import { createDispatcher } from '../routing/dispatch';
import { createProviderRouting, type ProviderRoutingDeps } from '../routing/provider-router';
import type { ProviderConfigStore } from '../routing/provider-configs';
import type { BreakerSettings } from '../routing/circuit-breakers';
import type { SuppressionStore } from '../store/suppressions';
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
  topics: Topics;
  policy: DeliveryPolicy;
  clock: { now(): Date };
  random: () => number;
  logger: Logger;
  workerId: string;
  /** Most messages per claim statement / finish transaction. */
  maxBatch: number;
  /** Called after a commit that enqueued records (wakes the outbox relay). */
  onEnqueued: () => void;
  /**
   * Per-tenant provider routes, circuit breakers and health (routing/). Absent: each channel's
   * default provider (`providers`) with a circuit breaker of default settings.
   */
  routing?: Omit<ProviderRoutingDeps, 'defaults' | 'clock' | 'random' | 'logger'>;
  /** The per-tenant suppression list consulted before and fed after each provider call. */
  suppressions?: SuppressionStore;
  /** One call per committed outcome (default: instruments on the global meter). */
  metrics?: DeliveryMetrics;
  /** PUBLIC_URL + /v1/receipts, passed to providers that send delivery receipts; absent: none are asked. */
  receiptsUrl?: string | null;
}

export type HandleOutcome = 'sent' | 'retry_scheduled' | 'failed' | 'dead_lettered' | 'malformed' | 'skipped' | 'fenced';

export interface IncomingRecord {
  topic: string;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** No tenant routes: every message goes to its channel's default provider. */
const EMPTY_CONFIGS: ProviderConfigStore = { route: async () => [], routes: async () => [], putRoute: async () => [], deleteRoute: async () => false };
export const DEFAULT_BREAKER: BreakerSettings = { errorThresholdPercentage: 50, volumeThreshold: 10, resetTimeoutMs: 30_000, rollingWindowMs: 10_000 };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Handles one record from send.<channel> or send.<channel>.retry. Never throws for a bad record
 * (malformed, or refused by PostgreSQL as data: dead-lettered) or a failed send (a retry or a
 * dead letter); throws only when PostgreSQL itself fails, so the offset is not committed and the
 * record comes again.
 *
 * Exactly-once effect: claim (lease + fence + ledger intent + revival row) → provider call keyed
 * by message id → fenced commit of the outcome together with what it publishes. A crash after the
 * call repeats the call with the same key, and the provider returns the original result without a
 * second effect. Concurrent records share statements through batchers.
 */
export function createDeliveryWorker(deps: DeliveryWorkerDeps) {
  const { store, providers, topics, policy, clock, logger } = deps;
  const routing = createProviderRouting({
    ...(deps.routing ?? { configs: EMPTY_CONFIGS, cipher: null, breaker: DEFAULT_BREAKER, cacheMs: 5_000 }),
    defaults: providers,
    clock,
    random: deps.random,
    logger,
  });
  const dispatcher = createDispatcher({
    routing,
    pinProvider: (id, fence, provider) => store.pinProvider(id, fence, provider),
    suppressions: deps.suppressions ?? null,
    providerTimeoutMs: policy.providerTimeoutMs,
    circuitRetryMs: (deps.routing?.breaker ?? DEFAULT_BREAKER).resetTimeoutMs,
    clock,
    logger,
    receiptsUrl: deps.receiptsUrl ?? null,
  });
  const metrics = deps.metrics ?? createDeliveryMetrics();

  const saver = createBatcher<SendRecord, Error | null>(async (records) => {
    try {
      await store.saveReceived(records, clock.now());
      return records.map(() => null);
    } catch (err) {
      if (!isDataError(err)) throw err;
      if (records.length === 1) return [err as Error];
      // One record spoiled the statement: find it by saving each on its own.
      const out: Array<Error | null> = [];
      for (const record of records) {
        try {
          await store.saveReceived([record], clock.now());
          out.push(null);
        } catch (one) {
          if (!isDataError(one)) throw one;
          out.push(one as Error);
        }
      }
      return out;
    }
  }, deps.maxBatch);
  const claimer = createBatcher<ClaimRequest, Claim | null>((requests) => store.claim(requests, deps.workerId, clock.now(), policy.leaseMs), deps.maxBatch);
  const finisher = createBatcher<AttemptResult, boolean>(async (results) => {
    const recorded = await store.finish(results);
    if (results.some((r, i) => recorded[i] && r.publish.length > 0)) deps.onEnqueued();
    return recorded;
  }, deps.maxBatch);

  /** Runs `handle` in its own consumer span, a child of the record's producer (one trace per message). */
  function handleInTrace(channel: Channel, incoming: IncomingRecord, partition?: number): Promise<HandleOutcome> {
    return inSpan(`process ${incoming.topic}`, {
      'messaging.system': 'kafka',
      'messaging.operation.name': 'process',
      'messaging.operation.type': 'process',
      'messaging.destination.name': incoming.topic,
      ...(partition !== undefined ? { 'messaging.destination.partition.id': String(partition) } : {}),
      ...(incoming.headers[HEADERS.messageId] ? { [ATTR.messageId]: incoming.headers[HEADERS.messageId] } : {}),
    }, () => handle(channel, incoming), { kind: SpanKind.CONSUMER, parent: contextFromHeaders(incoming.headers) });
  }

  async function handle(channel: Channel, incoming: IncomingRecord): Promise<HandleOutcome> {
    let record: SendRecord;
    try {
      record = parseSendRecord(incoming.value, channel);
    } catch (err) {
      if (!(err instanceof MalformedRecordError)) throw err;
      return deadLetterUnusable(channel, incoming, err.message);
    }
    const urgent = { urgent: record.priority === 'high' };
    const refused = await saver.add(record, urgent);
    if (refused) {
      const code = (refused as { code?: string }).code ?? '';
      return deadLetterUnusable(channel, incoming, `PostgreSQL refused the record (SQLSTATE ${code}): ${refused.message}`);
    }
    const log = logger.child({ messageId: record.id, channel });
    const attempt = attemptNumberHint(incoming);
    const claim = await claimer.add({
      record,
      revival: sendRecordRow(record, topics.retry(record.channel), attempt, null, currentTraceHeaders()),
    }, urgent);
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
      (span) => runAttempt(record, claim, incoming, span, log),
    );
  }

  async function runAttempt(record: SendRecord, claim: Claim, incoming: IncomingRecord, span: Span, log: Logger): Promise<HandleOutcome> {
    const startedAt = clock.now();
    let failure: DeliveryError | null = null;
    let providerMessageId: string | null = null;
    let usedProvider: string | null = null;
    if (claim.delivered) {
      // The effect happened and was recorded; only the status write was lost. Do not call again.
      providerMessageId = claim.delivered.providerMessageId;
    } else {
      const dispatched = await dispatcher.dispatch(record, claim, span);
      usedProvider = dispatched.provider;
      if (dispatched.ok) providerMessageId = dispatched.providerMessageId;
      else failure = dispatched.failure;
    }
    // The attempt span's context: the retry record continues the trace from here.
    const trace = currentTraceHeaders(context.active());
    const base = { id: record.id, fence: claim.fence, attempts: claim.attempt, worker: deps.workerId, startedAt, providerMessageId, backoffMs: null, dueAt: null };
    const f = failure as DeliveryError | null;
    // Every outcome also announces the new status (router-service's listing projection), in the same fenced commit.
    const finish = (r: AttemptResult, opts?: { urgent?: boolean }) =>
      finisher.add({ ...r, attemptTraceparent: trace[HEADERS.traceparent] ?? null, publish: [...r.publish, statusEventRow(topics.status, record, r, trace)] }, opts);
    // The provider that sent it (or was tried last) names the series; the channel's default otherwise.
    const event = { channel: record.channel, provider: usedProvider ?? providers[record.channel].name, tenantId: record.tenantId, attempts: claim.attempt, acceptedAt: record.createdAt };

    if (!f) {
      span.setAttribute(ATTR.attemptOutcome, 'sent');
      if (!(await finish({ ...base, finishedAt: clock.now(), outcome: 'sent', error: null, status: 'sent', publish: [] }, { urgent: record.priority === 'high' }))) return fencedOut(span, log);
      metrics.recordSent({ ...event, at: clock.now() });
      log.info('message sent', { attempt: claim.attempt, providerMessageId });
      return 'sent';
    }

    span.setStatus({ code: SpanStatusCode.ERROR, message: f.message });
    if (f instanceof RateLimitedDeliveryError) {
      // The provider asked us to wait: reschedule without using up an attempt.
      span.setAttribute(ATTR.attemptOutcome, 'rate_limited');
      const dueAt = new Date(clock.now().getTime() + f.retryAfterMs);
      const ok = await finish({
        ...base, attempts: claim.attempt - 1, finishedAt: clock.now(), outcome: null, error: f.message, status: 'retrying', dueAt,
        publish: [sendRecordRow(record, topics.retry(record.channel), claim.attempt, dueAt, trace)],
      });
      if (!ok) return fencedOut(span, log);
      metrics.recordRetried({ ...event, reason: 'rate_limited' });
      return 'retry_scheduled';
    }
    if (f instanceof PermanentDeliveryError) {
      span.setAttribute(ATTR.attemptOutcome, 'permanent_failure');
      const ok = await finish({
        ...base, finishedAt: clock.now(), outcome: 'permanent_failure', error: f.message, status: 'failed',
        publish: [deadLetterRow(record, incoming, DEAD_LETTER_REASONS.permanentFailure, f.message, claim.attempt, trace)],
      });
      if (!ok) return fencedOut(span, log);
      metrics.recordFailed({ ...event, at: clock.now() });
      log.warn('message failed permanently', { attempt: claim.attempt, reason: f.message });
      return 'failed';
    }
    if (claim.attempt - (claim.attemptBase ?? 0) >= policy.maxAttempts) {
      span.setAttribute(ATTR.attemptOutcome, 'retries_exhausted');
      const ok = await finish({
        ...base, finishedAt: clock.now(), outcome: 'transient_failure', error: f.message, status: 'dead_lettered',
        publish: [deadLetterRow(record, incoming, DEAD_LETTER_REASONS.retriesExhausted, f.message, claim.attempt, trace)],
      });
      if (!ok) return fencedOut(span, log);
      metrics.recordDeadLettered({ ...event, at: clock.now() });
      log.warn('retries exhausted: message dead-lettered', { attempt: claim.attempt, reason: f.message });
      return 'dead_lettered';
    }
    const backoffMs = backoffDelayMs(policy.backoff, claim.attempt, deps.random);
    span.setAttribute(ATTR.attemptOutcome, 'transient_failure');
    span.setAttribute(ATTR.backoffMs, backoffMs);
    const finishedAt = clock.now();
    const dueAt = new Date(finishedAt.getTime() + backoffMs);
    const ok = await finish({
      ...base, finishedAt, outcome: 'transient_failure', error: f.message, status: 'retrying', dueAt, backoffMs,
      publish: [sendRecordRow(record, topics.retry(record.channel), claim.attempt + 1, dueAt, trace)],
    });
    if (!ok) return fencedOut(span, log);
    metrics.recordRetried({ ...event, reason: 'transient_failure' });
    log.info('attempt failed transiently: retry scheduled', { attempt: claim.attempt, backoffMs, reason: f.message });
    return 'retry_scheduled';
  }

  function fencedOut(span: Span, log: Logger): HandleOutcome {
    span.setAttribute(ATTR.attemptOutcome, 'fenced');
    log.warn('outcome discarded: another worker took this message over after our lease expired');
    return 'fenced';
  }

  /** A record that cannot become a message (unparseable, or data PostgreSQL refuses): dead-letter it, move on. */
  async function deadLetterUnusable(channel: Channel, incoming: IncomingRecord, reason: string): Promise<HandleOutcome> {
    const raw = incoming.value?.toString('utf8') ?? '';
    const headerId = incoming.headers[HEADERS.messageId];
    const messageId = headerId && UUID.test(headerId) ? headerId : undefined;
    await inSpan(SPAN.deadLetter, { [ATTR.deadLetterReason]: DEAD_LETTER_REASONS.malformed, [ATTR.channel]: channel }, async () => {
      const value = { v: 1, reason: DEAD_LETTER_REASONS.malformed, error: reason, sourceTopic: incoming.topic, messageId, channel, record: raw.slice(0, 100_000), deadLetteredAt: clock.now().toISOString() };
      await store.enqueueAlone({
        topic: topics.deadLetter, key: messageId ?? null, value: JSON.stringify(value),
        headers: dlqHeaders(DEAD_LETTER_REASONS.malformed, reason, incoming.topic, messageId, channel),
      }, clock.now());
    });
    deps.onEnqueued();
    metrics.recordMalformed({ channel });
    logger.warn('unusable record dead-lettered', { topic: incoming.topic, reason });
    return 'malformed';
  }

  function deadLetterRow(record: SendRecord, incoming: IncomingRecord, reason: string, error: string, attempts: number, trace: Record<string, string>): OutboxRecord {
    const value = { v: 1, reason, error, sourceTopic: incoming.topic, messageId: record.id, channel: record.channel, attempts, record, deadLetteredAt: clock.now().toISOString() };
    return { topic: topics.deadLetter, key: record.id, value: JSON.stringify(value), headers: dlqHeaders(reason, error, incoming.topic, record.id, record.channel), traceHeaders: trace };
  }

  return { handle: handleInTrace, routing };
}

function dlqHeaders(reason: string, error: string, sourceTopic: string, messageId: string | undefined, channel: string): Record<string, string> {
  return {
    [HEADERS.dlqReason]: reason,
    [HEADERS.dlqError]: error.slice(0, 1000),
    [HEADERS.dlqSourceTopic]: sourceTopic,
    ...(messageId ? { [HEADERS.messageId]: messageId } : {}),
    [HEADERS.channel]: channel,
  };
}

/** The send record re-published to the retry topic (a retry, or a revival after a lost lease). */
function sendRecordRow(record: SendRecord, topic: string, attempt: number, notBefore: Date | null, trace: Record<string, string>): OutboxRecord {
  return {
    topic,
    key: recordKey(record.channel, record.to),
    value: JSON.stringify(record),
    headers: { [HEADERS.messageId]: record.id, [HEADERS.channel]: record.channel, [HEADERS.attempt]: String(attempt) },
    notBefore,
    traceHeaders: trace,
    traceId: record.traceId,
  };
}

/** The status change a finished attempt announces; key = message id keeps one message's events in order. */
function statusEventRow(topic: string, record: SendRecord, r: AttemptResult, trace: Record<string, string>): OutboxRecord {
  const event: StatusEvent = {
    v: 1, id: r.id, tenantId: record.tenantId ?? null, status: r.status, version: r.fence, deliveryAttempts: r.attempts,
    lastAttemptedAt: r.outcome ? r.startedAt.toISOString() : null, at: r.finishedAt.toISOString(),
  };
  return { topic, key: r.id, value: JSON.stringify(event), headers: { [HEADERS.messageId]: r.id }, traceHeaders: trace, traceId: record.traceId };
}

/** x-attempt of the record (informational only; the claim decides the real attempt number). */
function attemptNumberHint(incoming: IncomingRecord): number {
  const n = Number(incoming.headers[HEADERS.attempt]);
  return Number.isInteger(n) && n > 0 ? n : 1;
}

export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>;
