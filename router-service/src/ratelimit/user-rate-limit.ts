import type { Knex } from 'knex';
import type { RateLimitPolicy } from '@ca/contracts';
import type { SqlPart } from '../dedup/content-dedup';
import { sha256 } from '../dedup/hashing';

/**
 * Per-user limits of notifications (POST /v1/notifications): one across all templates and channels
 * (policy `user`: the merchant's, else USER_RATE_*), and one per user + template when the template
 * has a `rateLimit` (policy `user-template`). Fixed windows counted in PostgreSQL inside the accept
 * statement, so any number of router processes share them and a refused request leaves no count.
 */
export interface UserLimit extends RateLimitPolicy {
  /** RateLimit-Policy name. */
  name: 'user' | 'user-template';
  /** sha256 of what is counted (the window size is part of it: a changed policy starts fresh counters). */
  bucket: string;
}

export function userLimits(input: { userId: string; templateId: string; userPolicy: RateLimitPolicy | null; templatePolicy: RateLimitPolicy | null }): UserLimit[] {
  const limits: UserLimit[] = [];
  if (input.userPolicy && input.userPolicy.limit > 0) {
    limits.push({ ...input.userPolicy, name: 'user', bucket: sha256(`user:${input.userId}:${input.userPolicy.windowSeconds}`) });
  }
  if (input.templatePolicy) {
    limits.push({ ...input.templatePolicy, name: 'user-template', bucket: sha256(`user-template:${input.userId}:${input.templateId}:${input.templatePolicy.windowSeconds}`) });
  }
  return limits;
}

export function windowStartOf(at: Date, windowSeconds: number): Date {
  const ms = windowSeconds * 1000;
  return new Date(Math.floor(at.getTime() / ms) * ms);
}

export function windowEndOf(at: Date, windowSeconds: number): Date {
  return new Date(windowStartOf(at, windowSeconds).getTime() + windowSeconds * 1000);
}

/**
 * CTE `user_counted_<i>` (one row, column `count`): takes one unit of limit i in the window `at`
 * falls in. Counted only when `after` yielded a row (a content duplicate never counts). The accept
 * statement refuses (rolls back) when `count` exceeds the limit.
 */
export function userCountCte(i: number, input: { tenantId: string; limit: UserLimit; at: Date; after: string | null }): SqlPart {
  const start = windowStartOf(input.at, input.limit.windowSeconds);
  return {
    sql: `user_counted_${i} AS (
      INSERT INTO user_rate_counters (tenant_id, bucket, window_start, count, expires_at)
      SELECT CAST(? AS uuid), CAST(? AS char(64)), CAST(? AS timestamptz), 1, CAST(? AS timestamptz)${input.after ? ` FROM ${input.after}` : ''}
      ON CONFLICT (tenant_id, bucket, window_start) DO UPDATE SET count = user_rate_counters.count + 1
      RETURNING count)`,
    bindings: [input.tenantId, input.limit.bucket, start, windowEndOf(input.at, input.limit.windowSeconds)],
  };
}

/** The merchant's per-user policy, or null when it uses the service default. */
export async function tenantUserPolicy(db: Knex, tenantId: string): Promise<RateLimitPolicy | null> {
  const row = await db('tenants').select('user_rate_limit').where({ id: tenantId }).first<{ user_rate_limit: RateLimitPolicy | null } | undefined>();
  return row?.user_rate_limit ?? null;
}

export async function setTenantUserPolicy(db: Knex, tenantId: string, policy: RateLimitPolicy | null): Promise<void> {
  await db('tenants').where({ id: tenantId }).update({ user_rate_limit: policy ? JSON.stringify(policy) : null });
}
