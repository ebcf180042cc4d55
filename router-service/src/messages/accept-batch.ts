import { ATTR, SPAN, type AcceptedView, type SendMessageRequest } from '@ca/contracts';
import { HttpProblem, type ProblemBody } from '@ca/http';
import { inSpan } from '@ca/telemetry';
import {
  BatchTooLarge, DuplicateMessage, IdempotencyKeyInFlight, IdempotencyKeyInvalid, IdempotencyKeyReused, RateLimited,
  StorageUnavailable, ValidationFailed, isStorageUnavailable,
} from '../errors';
import { contentHash, requestHash } from '../dedup/hashing';
import { isValidIdempotencyKey } from '../dedup/idempotency-keys';
import { secondsToNextWindow } from '../ratelimit/recipient-rate-limit';
import { sendOutboxEntry, type AcceptDeps } from './accept-message';
import { storeBatch, type BatchEntry, type BatchOutcome } from './batch-store';
import { acceptedView } from './message-links';
import { resolveSendAt } from './schedule';
import { validateMessage } from './validate-message';

/** One item's answer: its own 202 (or replayed 202), or its own problem. */
export type BatchItemResult =
  | { index: number; status: number; message: AcceptedView; replayed?: true }
  | { index: number; status: number; problem: ProblemBody };

export interface BatchResult {
  accepted: number;
  refused: number;
  results: BatchItemResult[];
}

/**
 * POST /v1/messages/batch: `{ messages: [ {…a POST /v1/messages body…, idempotencyKey?} ] }`. Each
 * item is validated on its own (a bad item never spoils the others); the valid ones are stored in
 * one transaction (storeBatch), each deduplicated by its own idempotencyKey (or its content, like a
 * single request without a key). More than maxItems → 413 for the whole request.
 */
export async function acceptBatch(deps: AcceptDeps & { maxItems: number }, body: unknown, traceId: string, tenantId: string): Promise<BatchResult> {
  const items = (body as { messages?: unknown } | null)?.messages;
  if (!body || typeof body !== 'object' || Array.isArray(body) || !Array.isArray(items) || Object.keys(body).some((k) => k !== 'messages')) {
    throw new ValidationFailed([{ field: 'messages', message: '"messages" must be an array of messages, the only field of the body', type: 'array.base' }]);
  }
  if (items.length > deps.maxItems) throw new BatchTooLarge(items.length, deps.maxItems);
  if (items.length === 0) throw new ValidationFailed([{ field: 'messages', message: '"messages" must contain at least 1 item', type: 'array.min' }]);

  const now = deps.clock.now();
  const results: BatchItemResult[] = new Array(items.length);
  const entries: BatchEntry[] = [];
  await inSpan(SPAN.batchValidate, { [ATTR.batchItems]: items.length }, async () => {
    for (const [index, raw] of items.entries()) {
      try {
        entries.push(await prepare(deps, raw, index, { traceId, tenantId, now }));
      } catch (err) {
        if (!(err instanceof HttpProblem)) throw err;
        results[index] = { index, status: err.status, problem: err.toBody() };
      }
    }
  });

  let outcomes: BatchOutcome[];
  try {
    outcomes = await inSpan(SPAN.batchStore, { [ATTR.batchValid]: entries.length }, () => storeBatch(deps.db, entries, {
      tenantId, traceId, now, dedupWindowSeconds: deps.settings.dedupWindowSeconds,
      idempotencyTtlSeconds: deps.settings.idempotencyTtlSeconds, rateLimitPerMinute: deps.settings.rateLimitPerMinute,
    }));
  } catch (err) {
    if (!isStorageUnavailable(err)) throw err;
    deps.logger.error('message store unavailable; batch refused', { error: (err as Error).message });
    throw new StorageUnavailable();
  }
  entries.forEach((e, i) => { results[e.index] = toResult(e, outcomes[i]!, now, deps.settings.rateLimitPerMinute); });
  const accepted = results.filter((r) => r.status === 202 && !('replayed' in r)).length;
  deps.logger.info('batch accepted', { items: items.length, accepted, refused: results.filter((r) => 'problem' in r).length });
  return { accepted, refused: results.filter((r) => 'problem' in r).length, results };
}

async function prepare(deps: AcceptDeps, raw: unknown, index: number, m: { traceId: string; tenantId: string; now: Date }): Promise<BatchEntry> {
  let key: string | undefined;
  let fields = raw;
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && 'idempotencyKey' in raw) {
    const { idempotencyKey, ...rest } = raw as { idempotencyKey: unknown };
    if (typeof idempotencyKey !== 'string' || !isValidIdempotencyKey(idempotencyKey)) throw new IdempotencyKeyInvalid();
    key = idempotencyKey;
    fields = rest;
  }
  const message: SendMessageRequest = await validateMessage(fields);
  const sendAt = resolveSendAt(message.sendAt, m.now, deps.settings.scheduleHorizonSeconds);
  const id = deps.newId();
  return {
    index, id, message, sendAt,
    body: acceptedView(id, m.traceId, deps.settings.traceViewUrl, sendAt ? 'scheduled' : 'pending'),
    outbox: sendOutboxEntry(deps.topics, message, { id, traceId: m.traceId, tenantId: m.tenantId, now: m.now }),
    ...(key !== undefined ? { key: { key, hash: requestHash(message) } } : { contentHash: contentHash(message) }),
  };
}

function toResult(e: BatchEntry, o: BatchOutcome, now: Date, limit: number): BatchItemResult {
  const problem = (p: HttpProblem): BatchItemResult => ({ index: e.index, status: p.status, problem: p.toBody() });
  switch (o.kind) {
    case 'accepted': return { index: e.index, status: 202, message: e.body };
    case 'replay': return { index: e.index, status: o.status, message: o.body, replayed: true };
    case 'key_reused': return problem(new IdempotencyKeyReused());
    case 'key_in_flight': return problem(new IdempotencyKeyInFlight(1));
    case 'duplicate': return problem(new DuplicateMessage(o.duplicateOf));
    case 'rate_limited': return problem(new RateLimited(secondsToNextWindow(now), limit));
  }
}
