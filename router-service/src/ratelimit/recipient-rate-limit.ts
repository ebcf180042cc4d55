import type { Knex } from 'knex';
import type { Channel } from '@ca/contracts';
import { sha256 } from '../dedup/hashing';

const WINDOW_MS = 60_000;

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * Fixed one-minute window per channel+recipient, counted in PostgreSQL so every router process
 * shares it. Runs inside the accept transaction: a rejected (or otherwise failed) request rolls its
 * increment back, so only accepted messages use the quota. limit 0 disables the check.
 */
export async function countTowardsRecipientLimit(
  trx: Knex.Transaction,
  input: { tenantId: string; channel: Channel; to: string; now: Date; limit: number },
): Promise<RateDecision> {
  if (input.limit <= 0) return { ok: true };
  const windowStart = Math.floor(input.now.getTime() / WINDOW_MS) * WINDOW_MS;
  const result = await trx.raw<{ rows: Array<{ count: number }> }>(
    `INSERT INTO rate_limits (tenant_id, bucket, window_start, count) VALUES (?, ?, ?, 1)
     ON CONFLICT (tenant_id, bucket, window_start) DO UPDATE SET count = rate_limits.count + 1
     RETURNING count`,
    [input.tenantId, sha256(`${input.channel}:${input.to}`), new Date(windowStart)],
  );
  const count = result.rows[0]?.count ?? 0;
  if (count <= input.limit) return { ok: true };
  return { ok: false, retryAfterSeconds: Math.ceil((windowStart + WINDOW_MS - input.now.getTime()) / 1000) };
}
