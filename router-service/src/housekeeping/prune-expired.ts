import type { Knex } from 'knex';

/**
 * Deletes dedup claims, idempotency keys and rate-limit windows that can no longer decide anything.
 * Expired rows are harmless (every check compares expiry itself); this only bounds table growth.
 * Small batches keep each statement short next to the accept path. The expiry is repeated outside
 * the subquery so a row taken over concurrently (new expiry) is re-checked and kept.
 */
export async function pruneExpired(db: Knex, now: Date, batch = 1000): Promise<number> {
  const windowCutoff = new Date(now.getTime() - 120_000);
  const counts = await Promise.all([
    db.raw(`DELETE FROM dedup WHERE expires_at <= ? AND hash IN (SELECT hash FROM dedup WHERE expires_at <= ? LIMIT ?)`, [now, now, batch]),
    db.raw(`DELETE FROM idempotency_keys WHERE expires_at <= ? AND key IN (SELECT key FROM idempotency_keys WHERE expires_at <= ? LIMIT ?)`, [now, now, batch]),
    db.raw(`DELETE FROM console_sessions WHERE id_hash IN (SELECT id_hash FROM console_sessions WHERE expires_at <= ? LIMIT ?)`, [now, batch]),
    db.raw(`DELETE FROM rate_limits WHERE (bucket, window_start) IN (SELECT bucket, window_start FROM rate_limits WHERE window_start < ? LIMIT ?)`, [windowCutoff, batch]),
  ]);
  return counts.reduce((sum, r: { rowCount?: number }) => sum + (r.rowCount ?? 0), 0);
}
