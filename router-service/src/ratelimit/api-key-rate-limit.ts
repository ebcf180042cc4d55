import type { RequestHandler } from 'express';
import type { Knex } from 'knex';
import { HttpProblem } from '@ca/http';
import { principalOf } from '../auth/authenticate';
import type { Clock } from '../clock';
import { StorageUnavailable, isStorageUnavailable } from '../errors';

export interface ApiRateLimitSettings {
  /** Bucket size: how many requests a key may make at once after being idle. */
  burst: number;
  /** Sustained rate: tokens added per second. 0 disables the limit. */
  perSecond: number;
}

export interface BucketDecision {
  allowed: boolean;
  /** Tokens left after this request (fractional). */
  tokens: number;
}

const POLICY = 'per-key';

/**
 * Takes one token from the key's bucket in ONE statement, shared by every router process: the
 * row lock serialises concurrent requests of one key, and the refill is computed from the stored
 * timestamp (from the injected clock, never now()), so no process keeps state.
 */
export async function takeToken(db: Knex, input: { keyId: string; now: Date; burst: number; perSecond: number }): Promise<BucketDecision> {
  // excluded.updated_at is this request's time; each use of `refilled` binds burst and rate.
  const refilled = 'LEAST(?::float8, b.tokens + ?::float8 * GREATEST(0, EXTRACT(EPOCH FROM (excluded.updated_at - b.updated_at))))';
  const limits = [input.burst, input.perSecond];
  const result = await db.raw<{ rows: Array<{ tokens: number; allowed: boolean }> }>(
    `INSERT INTO api_rate_buckets AS b (key_id, tokens, allowed, updated_at) VALUES (?, ?::float8 - 1, true, ?)
     ON CONFLICT (key_id) DO UPDATE SET
       allowed = ${refilled} >= 1,
       tokens = ${refilled} - CASE WHEN ${refilled} >= 1 THEN 1 ELSE 0 END,
       updated_at = GREATEST(b.updated_at, excluded.updated_at)
     RETURNING tokens, allowed`,
    [input.keyId, input.burst, input.now, ...limits, ...limits, ...limits],
  );
  const row = result.rows[0]!;
  return { allowed: row.allowed, tokens: Number(row.tokens) };
}

export class ApiRateLimited extends HttpProblem {
  constructor(retryAfterSeconds: number) {
    super(429, 'API_RATE_LIMITED', 'Too many requests for this API key',
      'This API key has used its request quota; retry after the time in Retry-After', {}, { 'Retry-After': String(retryAfterSeconds) });
  }
}

/**
 * Token bucket per API key (after authenticate). Every response it lets through, and the 429,
 * carries the IETF RateLimit-Policy / RateLimit fields (draft-ietf-httpapi-ratelimit-headers-10):
 * q = burst, w = seconds to refill an empty bucket; r = requests left, t = seconds until the next
 * token (when none is left) or until the bucket is full again.
 */
export function apiRateLimit(deps: { db: Knex; clock: Clock; settings: ApiRateLimitSettings }): RequestHandler {
  return (_req, res, next) => {
    const { keyId, rateLimit } = principalOf(res);
    const burst = rateLimit.burst ?? deps.settings.burst;
    const perSecond = rateLimit.perSecond ?? deps.settings.perSecond;
    if (perSecond <= 0 || burst <= 0) return next();
    takeToken(deps.db, { keyId, now: deps.clock.now(), burst, perSecond }).then((decision) => {
      const remaining = Math.floor(decision.tokens);
      const secondsToNext = Math.max(1, Math.ceil((1 - decision.tokens) / perSecond));
      const reset = remaining >= 1 ? Math.ceil((burst - decision.tokens) / perSecond) : secondsToNext;
      res.setHeader('RateLimit-Policy', `"${POLICY}";q=${burst};w=${Math.max(1, Math.ceil(burst / perSecond))}`);
      res.setHeader('RateLimit', `"${POLICY}";r=${remaining};t=${reset}`);
      next(decision.allowed ? undefined : new ApiRateLimited(secondsToNext));
    }, (err: unknown) => next(err instanceof HttpProblem || !isStorageUnavailable(err) ? err : new StorageUnavailable()));
  };
}
