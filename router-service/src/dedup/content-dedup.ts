import type { Knex } from 'knex';
import { addSeconds } from '../clock';

/** A piece of the accept statement: a CTE body and its bindings, in order. */
export interface SqlPart {
  sql: string;
  bindings: Knex.RawBinding[];
}

/**
 * CTE `claim`: claims a content hash for `messageId`; one row when claimed, none when an unexpired
 * claim exists. The primary key on the hash decides between concurrent requests (the loser waits
 * for the winner's commit, then sees its row); an expired claim is taken over. Timestamps come from
 * the injected clock, never now(), so the window is exactly what the caller's clock says.
 */
export function contentClaimCte(input: { tenantId: string; hash: string; messageId: string; now: Date; windowSeconds: number }): SqlPart {
  return {
    sql: `claim AS (
      INSERT INTO dedup (tenant_id, hash, message_id, expires_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (tenant_id, hash) DO UPDATE SET message_id = excluded.message_id, expires_at = excluded.expires_at
      WHERE dedup.expires_at <= ?
      RETURNING message_id)`,
    bindings: [input.tenantId, input.hash, input.messageId, addSeconds(input.now, input.windowSeconds), input.now],
  };
}

/**
 * The message that holds the content claim, for a 409's duplicateOf (a second round trip, on the
 * duplicate path only). The row can vanish only if pruned concurrently; then the content is free
 * again, but this request already lost its round: report the conflict without an id rather than loop.
 */
export async function duplicateOf(db: Knex, tenantId: string, hash: string): Promise<string> {
  const existing = await db('dedup').select('message_id').where({ tenant_id: tenantId, hash }).first<{ message_id: string } | undefined>();
  return existing?.message_id ?? '';
}
