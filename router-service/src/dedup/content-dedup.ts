import type { Knex } from 'knex';
import { addSeconds } from '../clock';

export type ContentClaim = { ok: true } | { ok: false; duplicateOf: string };

/**
 * Claims a content hash for `messageId` inside the accept transaction. The primary key on the hash
 * decides between concurrent requests (the loser waits for the winner's commit, then sees its row);
 * an expired claim is taken over. Timestamps come from the injected clock, never now(), so the
 * window is exactly what the caller's clock says.
 */
export async function claimContent(
  trx: Knex.Transaction,
  input: { tenantId: string; hash: string; messageId: string; now: Date; windowSeconds: number },
): Promise<ContentClaim> {
  const claimed = await trx.raw<{ rows: Array<{ message_id: string }> }>(
    `INSERT INTO dedup (tenant_id, hash, message_id, expires_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (tenant_id, hash) DO UPDATE SET message_id = excluded.message_id, expires_at = excluded.expires_at
     WHERE dedup.expires_at <= ?
     RETURNING message_id`,
    [input.tenantId, input.hash, input.messageId, addSeconds(input.now, input.windowSeconds), input.now],
  );
  if (claimed.rows.length > 0) return { ok: true };
  const existing = await trx('dedup').select('message_id').where({ tenant_id: input.tenantId, hash: input.hash }).first<{ message_id: string } | undefined>();
  // The row cannot vanish inside our transaction unless pruned concurrently; then the content is free
  // again, but we already lost this round: report the conflict without an id rather than loop.
  return { ok: false, duplicateOf: existing?.message_id ?? '' };
}
