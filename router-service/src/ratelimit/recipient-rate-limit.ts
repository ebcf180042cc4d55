import type { Channel } from '@ca/contracts';
import type { SqlPart } from '../dedup/content-dedup';
import { sha256 } from '../dedup/hashing';

const WINDOW_MS = 60_000;

/**
 * CTE `counted` (one row, column `count`): fixed one-minute window per channel+recipient, counted in
 * PostgreSQL so every router process shares it. It counts only when `after` (a CTE name) yielded a
 * row, so a duplicate never touches the counter. The accept statement refuses (rolls back) when
 * `count` exceeds the limit, so only accepted messages use the quota. limit 0 disables the check:
 * no counter row at all, count 0.
 */
export function recipientCountCte(input: { tenantId: string; channel: Channel; to: string; now: Date; limit: number; after: string | null }): SqlPart {
  const from = input.after ? ` FROM ${input.after}` : '';
  if (input.limit <= 0) return { sql: `counted AS (SELECT 0 AS count${from})`, bindings: [] };
  return {
    sql: `counted AS (
      INSERT INTO rate_limits (tenant_id, bucket, window_start, count) SELECT CAST(? AS uuid), CAST(? AS char(64)), CAST(? AS timestamptz), 1${from}
      ON CONFLICT (tenant_id, bucket, window_start) DO UPDATE SET count = rate_limits.count + 1
      RETURNING count)`,
    bindings: [input.tenantId, sha256(`${input.channel}:${input.to}`), new Date(windowStart(input.now))],
  };
}

/** Seconds until the window that `now` falls in closes (Retry-After of a 429). */
export function secondsToNextWindow(now: Date): number {
  return Math.ceil((windowStart(now) + WINDOW_MS - now.getTime()) / 1000);
}

/** The counter a channel+recipient uses in the window `now` falls in (the batch path counts many at once). */
export function recipientBucket(channel: Channel, to: string, now: Date): { bucket: string; windowStart: Date } {
  return { bucket: sha256(`${channel}:${to}`), windowStart: new Date(windowStart(now)) };
}

function windowStart(now: Date): number {
  return Math.floor(now.getTime() / WINDOW_MS) * WINDOW_MS;
}
