import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { AcceptedView } from '@ca/contracts';
import { addSeconds } from '../clock';
import type { SqlPart } from './content-dedup';

/** A claim that outlives this without completing is considered abandoned and may be re-claimed. */
export const IDEMPOTENCY_LOCK_SECONDS = 30;

/** Accepts what RFC 9110 allows in a header value that is also printable ASCII (node trims ends). */
const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

export function isValidIdempotencyKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

export type KeyClaim =
  | { kind: 'claimed'; token: string }
  | { kind: 'replay'; status: number; body: AcceptedView }
  | { kind: 'in_flight'; retryAfterSeconds: number }
  | { kind: 'reused' };

interface KeyRow {
  request_hash: string;
  state: 'in_flight' | 'completed';
  locked_until: Date | null;
  response_status: number | null;
  response_body: AcceptedView | null;
}

/**
 * Claims `key` in its own short statement (autocommit), so a concurrent request sees the claim at
 * once. A row that expired, or an in-flight claim whose lock passed, is taken over in the same
 * statement; otherwise the existing row decides: other body → reused, completed → replay,
 * in flight → in_flight.
 */
export async function claimIdempotencyKey(
  db: Knex,
  input: { tenantId: string; key: string; hash: string; now: Date; ttlSeconds: number },
): Promise<KeyClaim> {
  for (let round = 0; round < 3; round++) {
    const token = randomUUID();
    const claimed = await db.raw<{ rows: unknown[] }>(
      `INSERT INTO idempotency_keys (tenant_id, key, request_hash, state, claim_token, locked_until, created_at, expires_at)
       VALUES (?, ?, ?, 'in_flight', ?, ?, ?, ?)
       ON CONFLICT (tenant_id, key) DO UPDATE SET request_hash = excluded.request_hash, state = 'in_flight',
         claim_token = excluded.claim_token, locked_until = excluded.locked_until, message_id = NULL,
         response_status = NULL, response_body = NULL, created_at = excluded.created_at, expires_at = excluded.expires_at
       WHERE idempotency_keys.expires_at <= ?
          OR (idempotency_keys.state = 'in_flight' AND idempotency_keys.locked_until <= ?)
       RETURNING key`,
      [input.tenantId, input.key, input.hash, token, addSeconds(input.now, IDEMPOTENCY_LOCK_SECONDS), input.now,
        addSeconds(input.now, input.ttlSeconds), input.now, input.now],
    );
    if (claimed.rows.length > 0) return { kind: 'claimed', token };

    const row = await db('idempotency_keys')
      .select('request_hash', 'state', 'locked_until', 'response_status', 'response_body')
      .where({ tenant_id: input.tenantId, key: input.key })
      .first<KeyRow | undefined>();
    if (!row) continue; // released between our insert and our read: try to claim again
    if (row.request_hash.trim() !== input.hash) return { kind: 'reused' };
    if (row.state === 'completed' && row.response_status !== null && row.response_body !== null) {
      return { kind: 'replay', status: row.response_status, body: row.response_body };
    }
    const lockedMs = row.locked_until ? row.locked_until.getTime() - input.now.getTime() : 0;
    return { kind: 'in_flight', retryAfterSeconds: Math.ceil(lockedMs / 1000) };
  }
  return { kind: 'in_flight', retryAfterSeconds: 1 };
}

/**
 * CTE `completed`: marks the key completed with the response to replay, in the accept statement,
 * only once `after` (a CTE name) yielded a row. No row when our claim was taken over (we stalled past
 * the lock): the statement must then roll back, so a message is never enqueued twice for one key.
 */
export function completeKeyCte(input: { tenantId: string; key: string; token: string; messageId: string; status: number; body: AcceptedView; after: string }): SqlPart {
  return {
    sql: `completed AS (
      UPDATE idempotency_keys SET state = 'completed', locked_until = NULL, message_id = ?, response_status = ?, response_body = CAST(? AS jsonb)
      WHERE tenant_id = ? AND key = ? AND claim_token = ? AND EXISTS (SELECT 1 FROM ${input.after})
      RETURNING key)`,
    bindings: [input.messageId, input.status, JSON.stringify(input.body), input.tenantId, input.key, input.token],
  };
}

/** A failed request gives its key back so the client can retry with the same key. */
export async function releaseIdempotencyKey(db: Knex, key: string, token: string): Promise<void> {
  await db('idempotency_keys').where({ key, claim_token: token, state: 'in_flight' }).delete();
}
