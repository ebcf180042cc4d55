import type { Knex } from 'knex';
import { ATTR, HEADERS, LANE_ORDER, SPAN, maskRecipient, recordKey, type AcceptedView, type DeferReason, type Priority, type SendMessageRequest, type SendRecord, type Topics } from '@ca/contracts';
import { HttpProblem } from '@ca/http';
import { buildHeaders } from '@ca/outbox';
import { inSpan, tracer, type Logger } from '@ca/telemetry';
import type { Clock } from '../clock';
import { DuplicateMessage, IdempotencyKeyInFlight, IdempotencyKeyReused, RateLimited, StorageUnavailable, UserRateLimited, isStorageUnavailable } from '../errors';
import { duplicateOf } from '../dedup/content-dedup';
import { contentHash, requestHash } from '../dedup/hashing';
import { claimIdempotencyKey, IDEMPOTENCY_LOCK_SECONDS, releaseIdempotencyKey } from '../dedup/idempotency-keys';
import { secondsToNextWindow } from '../ratelimit/recipient-rate-limit';
import { windowEndOf, type UserLimit } from '../ratelimit/user-rate-limit';
import { storeAccepted, type NotificationFields } from './message-store';
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

/** What the send paths tell their caller about each newly accepted message (wakes the relay, counts it). */
export interface AcceptedInfo {
  channel: string;
  tenantId: string;
  /** A HIGH message wakes the outbox relay's HIGH round (outbox-relay.ts). */
  priority: Priority;
}

export interface Accepted {
  status: number;
  body: AcceptedView;
  replayed: boolean;
  /** Notifications: each per-user limit and how much of it is left in its window (RateLimit fields). */
  userLimits?: Array<{ limit: UserLimit; remaining: number; resetSeconds: number }>;
}

/** A notification resolved to a message (POST /v1/notifications): its row fields and per-user limits. */
export interface NotificationAccept {
  fields: NotificationFields;
  limits: UserLimit[];
  /** The template's quiet hours in the user's zone: when an instant falls inside them, the instant they end; else null. */
  quietHoursEnd?: (at: Date) => Date | null;
}

/** How many windows ahead a `defer` policy may push a notification before it is refused after all. */
export const MAX_DEFER_WINDOWS = 50;

/**
 * Accepts one validated message: after the commit it is durable (message row + outbox row),
 * whatever Kafka is doing. Duplicates are decided by PostgreSQL constraints, so the answer is the
 * same across any number of router processes.
 */
export async function acceptMessage(deps: AcceptDeps, message: SendMessageRequest, idempotencyKey: string | undefined, traceId: string, tenantId: string, notification?: NotificationAccept): Promise<Accepted> {
  // Before any claim: a sendAt out of range is the client's to fix, and takes no key.
  resolveSendAt(message.sendAt, deps.clock.now(), deps.settings.scheduleHorizonSeconds);
  try {
    if (idempotencyKey === undefined) return await accept(deps, message, traceId, tenantId, undefined, notification);
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
      return await accept(deps, message, traceId, tenantId, { key: idempotencyKey, token: claim.token }, notification);
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

async function accept(deps: AcceptDeps, message: SendMessageRequest, traceId: string, tenantId: string, claim: { key: string; token: string } | undefined, notification: NotificationAccept | undefined): Promise<Accepted> {
  const { db, clock, logger, topics, settings } = deps;
  const id = deps.newId();
  const now = clock.now();
  const recipientMasked = maskRecipient(message.channel, message.to);
  const sendAt = resolveSendAt(message.sendAt, now, settings.scheduleHorizonSeconds);
  const initial: AcceptedView = { ...acceptedView(id, traceId, settings.traceViewUrl, sendAt ? 'scheduled' : 'pending'), ...(notification ? { notificationId: id } : {}) };
  // When it may go out, given the window a per-user limit moved it to (`at`): never before the
  // client's sendAt, and never inside the template's quiet hours (which move a sendAt too).
  const plan = (at: Date): { sendAt: Date | null; deferredBy: DeferReason | null; body: AcceptedView } => {
    const limited = at > now && (sendAt === null || at > sendAt);
    const planned = limited ? at : sendAt;
    const quietEnd = notification?.quietHoursEnd?.(planned ?? now) ?? null;
    const deferredBy: DeferReason | null = quietEnd ? 'quiet_hours' : limited ? 'rate_limit' : null;
    const when = quietEnd ?? planned;
    return {
      sendAt: when, deferredBy,
      body: when && deferredBy ? { ...initial, status: 'scheduled', deferredUntil: when.toISOString(), deferredBy } : initial,
    };
  };
  const topic = topics.lane(message.channel, message.priority);
  // Content dedup only without a key: a key is the client's explicit statement of identity, so
  // two keyed requests with the same text are two messages the client meant to send.
  const content = claim ? undefined : { hash: contentHash(message), windowSeconds: settings.dedupWindowSeconds };

  // One statement does the content claim, rate count, message row, outbox row (and key completion):
  // see storeAccepted. Its span is the route span, whose context the outbox row carries, so the
  // relay's publish (later, maybe in another process) joins this request's trace.
  const started = Date.now();
  const limits = notification?.limits ?? [];
  // Per-user limits with policy `defer`: a full window moves the notification to the next one (a
  // statement per window tried, each atomic), published then through the outbox's not_before.
  let planned = plan(now);
  const storeAt = (at: Date) => inSpan(SPAN.route, {
    [ATTR.messageId]: id, [ATTR.route]: topic, [ATTR.channel]: message.channel,
    [ATTR.recipientMasked]: recipientMasked, [ATTR.priority]: message.priority,
  }, async () => {
    planned = plan(at);
    const outbox = sendOutboxEntry(topics, message, { id, traceId, tenantId, now });
    // A deferred notification is scheduled like a sendAt: status `scheduled`, outbox not_before.
    return storeAccepted(db, {
      id, tenantId, message, traceId, now, rateLimitPerMinute: settings.rateLimitPerMinute, outbox, content, sendAt: planned.sendAt, deferredBy: planned.deferredBy,
      ...(claim ? { key: { ...claim, body: planned.body } } : {}),
      ...(notification ? { notification: notification.fields, userLimits: limits, userLimitsAt: at } : {}),
    });
  });
  let at = now;
  let outcome = await storeAt(at);
  for (let round = 1; outcome.kind === 'user_rate_limited'; round++) {
    const hit = limits[outcome.limit]!;
    const windowEnd = windowEndOf(at, hit.windowSeconds);
    if (hit.onLimit === 'reject' || round >= MAX_DEFER_WINDOWS) {
      logger.info('user rate limit reached', { policy: hit.name, onLimit: hit.onLimit, channel: message.channel, recipientMasked });
      throw new UserRateLimited(hit, Math.ceil((windowEnd.getTime() - now.getTime()) / 1000));
    }
    at = windowEnd;
    outcome = await storeAt(at);
  }
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

  const userCounts = outcome.kind === 'accepted' ? outcome.userCounts : [];
  const userLimits = limits.map((limit, i) => ({
    limit, remaining: Math.max(0, limit.limit - (userCounts[i] ?? 0)), resetSeconds: Math.ceil((windowEndOf(at, limit.windowSeconds).getTime() - now.getTime()) / 1000),
  }));
  if (planned.deferredBy) logger.info('notification deferred', { messageId: id, deferredBy: planned.deferredBy, deferredUntil: planned.sendAt?.toISOString() });
  logger.info('message accepted', { messageId: id, channel: message.channel, recipientMasked, priority: message.priority, topic, idempotencyKeyPresent: claim !== undefined, ...(planned.sendAt ? { sendAt: planned.sendAt.toISOString() } : {}) });
  return { status: 202, body: planned.body, replayed: false, ...(notification ? { userLimits } : {}) };
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
    createdAt: m.now.toISOString(), traceId: m.traceId, tenantId: m.tenantId, ...(message.html ? { html: message.html } : {}),
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
