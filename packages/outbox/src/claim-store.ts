import type { Knex } from 'knex';

export interface ClaimedRow {
  id: string;
  topic: string;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

/**
 * Claims up to `limit` publishable rows for one relay round and commits at once: no transaction
 * stays open while Kafka is called. A row is publishable when it is due (not_before passed), not
 * held by a live claim, and no earlier due row of its key is held by a live claim (so a key's rows
 * go out in id order even with several relays). The advisory lock serialises claimers, so two
 * relays never split one key's rows between them; SKIP LOCKED passes over rows a finishing
 * transaction is deleting. Rows are taken lane first (HIGH before MEDIUM before LOW), then in id
 * order, so a HIGH row never waits for a LOW backlog to be published; `lanes` takes those lanes'
 * rows only (the relay's HIGH round; the main round while LOW yields).
 */
export async function claimRows(db: Knex, opts: { token: string; now: Date; claimMs: number; limit: number; lanes?: readonly number[] }): Promise<ClaimedRow[]> {
  const expires = new Date(opts.now.getTime() + opts.claimMs);
  return db.transaction(async (trx) => {
    await trx.raw(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.outbox'))`);
    const { rows } = await trx.raw<{ rows: ClaimedRow[] }>(
      `UPDATE outbox o SET claim_token = :token, claim_expires_at = :expires
         FROM (
           SELECT c.id FROM outbox c
            WHERE (c.not_before IS NULL OR c.not_before <= :now)${opts.lanes === undefined ? '' : ' AND c.lane = ANY(:lanes)'}
              AND (c.claim_expires_at IS NULL OR c.claim_expires_at <= :now)
              AND NOT EXISTS (
                SELECT 1 FROM outbox e
                 WHERE e.key = c.key AND e.id < c.id
                   AND (e.not_before IS NULL OR e.not_before <= :now)
                   AND e.claim_expires_at > :now)
            ORDER BY c.lane, c.id
            LIMIT :limit
            FOR UPDATE SKIP LOCKED
         ) picked
        WHERE o.id = picked.id
        RETURNING o.id, o.topic, o.key, o.value, o.headers`,
      { token: opts.token, expires, now: opts.now, limit: opts.limit, ...(opts.lanes === undefined ? {} : { lanes: [...opts.lanes] }) },
    );
    return rows
      .map((r) => ({ ...r, id: String(r.id) }))
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  });
}

/** Deletes published rows; only while our claim holds (a relay that lost it leaves them to the new holder). */
export async function deleteClaimed(db: Knex, ids: readonly string[], token: string): Promise<void> {
  if (ids.length > 0) await db('outbox').whereIn('id', ids).andWhere('claim_token', token).delete();
}

/**
 * Gives rows back after a failed publish so the next round (ours or another relay's) retries them.
 * The token stays: a failed produce request may still have written some records, and a null
 * claim_token must keep meaning "never handed to a producer" (a cancel relies on it).
 */
export async function releaseClaimed(db: Knex, ids: readonly string[], token: string): Promise<void> {
  if (ids.length > 0) await db('outbox').whereIn('id', ids).andWhere('claim_token', token).update({ claim_expires_at: null });
}

/** When the earliest row that is not yet due comes due (a retry, a scheduled message), or null. */
export async function nextDueAt(db: Knex, now: Date): Promise<Date | null> {
  const row = await db('outbox').where('not_before', '>', now).min<{ next: Date | null }>('not_before as next').first();
  return row?.next ?? null;
}
