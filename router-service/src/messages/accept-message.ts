import type { Knex } from 'knex';
import { ATTR, HEADERS, SPAN, maskRecipient, recordKey, type AcceptedView, type SendMessageRequest, type SendRecord, type Topics } from '@ca/contracts';
import { HttpProblem } from '@ca/http';
import { currentTraceHeaders, inSpan, syntheticTraceparent, type Logger } from '@ca/telemetry';
import type { Clock } from '../clock';
import { DuplicateMessage, IdempotencyKeyInFlight, IdempotencyKeyReused, RateLimited, StorageUnavailable, isStorageUnavailable } from '../errors';
import { claimContent } from '../dedup/content-dedup';
import { contentHash, requestHash } from '../dedup/hashing';
import { claimIdempotencyKey, completeIdempotencyKey, IDEMPOTENCY_LOCK_SECONDS, releaseIdempotencyKey } from '../dedup/idempotency-keys';
import { enqueueOutbox } from '../outbox/outbox-store';
import { countTowardsRecipientLimit } from '../ratelimit/recipient-rate-limit';
import { insertMessage } from './message-store';
import { acceptedView } from './message-links';

export interface AcceptDeps {
  db: Knex;
  clock: Clock;
  logger: Logger;
  topics: Topics;
  newId: () => string;
  settings: { traceViewUrl: string; dedupWindowSeconds: number; idempotencyTtlSeconds: number; rateLimitPerMinute: number };
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
  const log = logger.child({ messageId: id });
  const body = acceptedView(id, traceId, settings.traceViewUrl);
  const topic = topics.send(message.channel);

  await db.transaction(async (trx) => {
    // Content dedup only without a key: a key is the client's explicit statement of identity, so
    // two keyed requests with the same text are two messages the client meant to send.
    if (!claim) {
      const dedup = await inSpan(SPAN.dedup, { [ATTR.idempotencyKeyPresent]: false, [ATTR.channel]: message.channel }, async (span) => {
        const result = await claimContent(trx, { tenantId, hash: contentHash(message), messageId: id, now, windowSeconds: settings.dedupWindowSeconds });
        span.setAttribute(ATTR.dedupOutcome, result.ok ? 'accepted' : 'duplicate');
        return result;
      });
      if (!dedup.ok) {
        logger.info('duplicate message refused', { duplicateOf: dedup.duplicateOf, channel: message.channel, recipientMasked });
        throw new DuplicateMessage(dedup.duplicateOf);
      }
    }

    const rate = await countTowardsRecipientLimit(trx, { tenantId, channel: message.channel, to: message.to, now, limit: settings.rateLimitPerMinute });
    if (!rate.ok) {
      logger.info('recipient rate limit reached', { channel: message.channel, recipientMasked });
      throw new RateLimited(rate.retryAfterSeconds, settings.rateLimitPerMinute);
    }

    await inSpan(SPAN.route, {
      [ATTR.messageId]: id, [ATTR.route]: topic, [ATTR.channel]: message.channel,
      [ATTR.recipientMasked]: recipientMasked, [ATTR.priority]: message.priority,
    }, async () => {
      await insertMessage(trx, { id, tenantId, message, traceId, idempotencyKey: claim?.key ?? null, createdAt: now });
      const record: SendRecord = {
        v: 1, id, channel: message.channel, to: message.to, subject: message.subject, body: message.body,
        priority: message.priority, correlationId: message.correlationId, metadata: message.metadata,
        createdAt: now.toISOString(), traceId, tenantId,
      };
      // The trace context of this span travels with the row, so the relay's publish (minutes later,
      // maybe in another process) joins this request's trace.
      const trace = currentTraceHeaders();
      if (!trace.traceparent) trace.traceparent = syntheticTraceparent(traceId);
      await enqueueOutbox(trx, {
        topic,
        key: recordKey(message.channel, message.to),
        value: JSON.stringify(record),
        headers: { ...trace, [HEADERS.messageId]: id, [HEADERS.channel]: message.channel, [HEADERS.attempt]: '1', [HEADERS.tenantId]: tenantId },
      }, now);
    });

    if (claim && !(await completeIdempotencyKey(trx, { key: claim.key, token: claim.token, messageId: id, status: 202, body }))) {
      // We stalled past the claim's lock and another request took the key over: roll back.
      throw new IdempotencyKeyInFlight(1);
    }
  });

  log.info('message accepted', { channel: message.channel, recipientMasked, priority: message.priority, topic, idempotencyKeyPresent: claim !== undefined });
  return { status: 202, body, replayed: false };
}
