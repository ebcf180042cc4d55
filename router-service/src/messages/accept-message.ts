import type { Knex } from 'knex';
import { ATTR, HEADERS, LANE_ORDER, SPAN, maskRecipient, recordKey, type AcceptedView, type SendMessageRequest, type SendRecord, type Topics } from '@ca/contracts';
import { HttpProblem } from '@ca/http';
import { buildHeaders } from '@ca/outbox';
import { inSpan, tracer, type Logger } from '@ca/telemetry';
import type { Clock } from '../clock';
import { DuplicateMessage, IdempotencyKeyInFlight, IdempotencyKeyReused, RateLimited, StorageUnavailable, isStorageUnavailable } from '../errors';
import { duplicateOf } from '../dedup/content-dedup';
import { contentHash, requestHash } from '../dedup/hashing';
import { claimIdempotencyKey, IDEMPOTENCY_LOCK_SECONDS, releaseIdempotencyKey } from '../dedup/idempotency-keys';
import { secondsToNextWindow } from '../ratelimit/recipient-rate-limit';
import { storeAccepted } from './message-store';
import { acceptedView } from './message-links';
import { resolveSendAt } from './schedule';

export interface AcceptDeps {
  db: Knex;
  clock: Clock;
  logger: Logger;
  topics: Topics;
  newId: () => string;
  settings: { traceViewUrl: string; dedupWindowSeconds: number; idempotencyTtlSeconds: number; rateLimitPerMinute: number; scheduleHorizonSeconds: number };
}

export interface Accepted {
  status: number;
  body: AcceptedView;
  replayed: boolean;
}

/**
 * Accepts one validated message: after the commit it is durable (message row + outbox row),
 * whatever Kafka is doing. Duplicates are decided by PostgreSQL constraints, so the answer is the
 * same across any number of router processes.
 */
export async function acceptMessage(deps: AcceptDeps, message: SendMessageRequest, idempotencyKey: string | undefined, traceId: string, tenantId: string): Promise<Accepted> {
  // Before any claim: a sendAt out of range is the client's to fix, and takes no key.
  resolveSendAt(message.sendAt, deps.clock.now(), deps.settings.scheduleHorizonSeconds);
  try {
    if (idempotencyKey === undefined) return await accept(deps, message, traceId, tenantId, undefined);
    const claim = await inSpan(SPAN.dedup, { [ATTR.idempotencyKeyPresent]: true }, async (span) => {
      const result = await claimIdempotencyKey(deps.db, {
        tenantId, key: idempotencyKey, hash: requestHash(message), now: deps.clock.now(), ttlSeconds: deps.settings.idempotencyTtlSeconds,
      });
      const outcome = { claimed: 'accepted', replay: 'replayed', in_flight: 'in_flight', reused: 'key_reused' }[result.kind];
      span.setAttribute(ATTR.dedupOutcome, outcome);
      return result;
    });
    if (claim.kind === 'reused') throw new IdempotencyKeyReused();
    if (claim.kind === 'in_flight') throw new IdempotencyKeyInFlight(claim.retryAfterSeconds);
    if (claim.kind === 'replay') {
      deps.logger.info('idempotent replay', { messageId: claim.body.id });
      return { status: claim.status, body: claim.body, replayed: true };
    }
    try {
      return await accept(deps, message, traceId, tenantId, { key: idempotencyKey, token: claim.token });
    } catch (err) {
      // Give the key back so the client may retry it; if even that fails the claim lapses by itself.
      await releaseIdempotencyKey(deps.db, idempotencyKey, claim.token).catch((releaseErr: unknown) => {
        deps.logger.warn('could not release idempotency key', { error: (releaseErr as Error).message, lapsesInSeconds: IDEMPOTENCY_LOCK_SECONDS });
      });
      throw err;
    }
  } catch (err) {
    if (err instanceof HttpProblem || !isStorageUnavailable(err)) throw err;
    deps.logger.error('message store unavailable; request refused', { error: (err as Error).message });
    throw new StorageUnavailable();
  }
}

async function accept(deps: AcceptDeps, message: SendMessageRequest, traceId: string, tenantId: string, claim: { key: string; token: string } | undefined): Promise<Accepted> {
  const { db, clock, logger, topics, settings } = deps;
  const id = deps.newId();
  const now = clock.now();
  const recipientMasked = maskRecipient(message.channel, message.to);
  const sendAt = resolveSendAt(message.sendAt, now, settings.scheduleHorizonSeconds);
  const body = acceptedView(id, traceId, settings.traceViewUrl, sendAt ? 'scheduled' : 'pending');
  const topic = topics.lane(message.channel, message.priority);
  // Content dedup only without a key: a key is the client's explicit statement of identity, so
  // two keyed requests with the same text are two messages the client meant to send.
  const content = claim ? undefined : { hash: contentHash(message), windowSeconds: settings.dedupWindowSeconds };

  // One statement does the content claim, rate count, message row, outbox row (and key completion):
  // see storeAccepted. Its span is the route span, whose context the outbox row carries, so the
  // relay's publish (later, maybe in another process) joins this request's trace.
  const started = Date.now();
  const outcome = await inSpan(SPAN.route, {
    [ATTR.messageId]: id, [ATTR.route]: topic, [ATTR.channel]: message.channel,
    [ATTR.recipientMasked]: recipientMasked, [ATTR.priority]: message.priority,
  }, async () => {
    const outbox = sendOutboxEntry(topics, message, { id, traceId, tenantId, now });
    return storeAccepted(db, {
      id, tenantId, message, traceId, now, rateLimitPerMinute: settings.rateLimitPerMinute, outbox, content, sendAt,
      ...(claim ? { key: { ...claim, body } } : {}),
    });
  });
  if (content) {
    // The dedup decision was made inside that statement; its span covers the same interval.
    tracer.startSpan(SPAN.dedup, {
      startTime: started,
      attributes: { [ATTR.idempotencyKeyPresent]: false, [ATTR.channel]: message.channel, [ATTR.dedupOutcome]: outcome.kind === 'duplicate' ? 'duplicate' : 'accepted' },
    }).end();
  }

  if (outcome.kind === 'duplicate') {
    const original = await duplicateOf(db, tenantId, content?.hash ?? '');
    logger.info('duplicate message refused', { duplicateOf: original, channel: message.channel, recipientMasked });
    throw new DuplicateMessage(original);
  }
  if (outcome.kind === 'rate_limited') {
    logger.info('recipient rate limit reached', { channel: message.channel, recipientMasked });
    throw new RateLimited(secondsToNextWindow(now), settings.rateLimitPerMinute);
  }
  // We stalled past the claim's lock and another request took the key over: nothing was written.
  if (outcome.kind === 'key_taken_over') throw new IdempotencyKeyInFlight(1);

  logger.info('message accepted', { messageId: id, channel: message.channel, recipientMasked, priority: message.priority, topic, idempotencyKeyPresent: claim !== undefined, ...(sendAt ? { sendAt: sendAt.toISOString() } : {}) });
  return { status: 202, body, replayed: false };
}

/**
 * The send record of an accepted message as its outbox row: on its priority lane's topic, headers and
 * trace context built by @ca/outbox (the one place records are shaped). The row itself is written by
 * storeAccepted's statement or the batch insert, with the same columns as @ca/outbox's enqueue.
 */
export function sendOutboxEntry(topics: Topics, message: SendMessageRequest, m: { id: string; traceId: string; tenantId: string; now: Date }) {
  const record: SendRecord = {
    v: 1, id: m.id, channel: message.channel, to: message.to, subject: message.subject, body: message.body,
    priority: message.priority, correlationId: message.correlationId, metadata: message.metadata,
    createdAt: m.now.toISOString(), traceId: m.traceId, tenantId: m.tenantId,
  };
  const entry = {
    topic: topics.lane(message.channel, message.priority),
    key: recordKey(message.channel, message.to),
    value: JSON.stringify(record),
    headers: { [HEADERS.messageId]: m.id, [HEADERS.channel]: message.channel, [HEADERS.attempt]: '1', [HEADERS.tenantId]: m.tenantId },
    traceId: m.traceId,
  };
  return { topic: entry.topic, key: entry.key, value: entry.value, headers: buildHeaders(entry), lane: LANE_ORDER[message.priority] };
}
