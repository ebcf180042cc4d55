import express, { Router } from 'express';
import { CANONICAL_UUID, maskRecipient, type Channel } from '@ca/contracts';
import type { Db } from '@ca/postgres';
import { invalidErasure } from '../errors';

const MAX_IDS = 10_000;

/**
 * POST /internal/v1/erasures `{ messageIds }`: router-service erasing a user (DELETE /v1/users/:id)
 * asks delivery to mask the recipient of those messages in its own rows, so no copy of the address
 * stays in stored history. Idempotent (a masked recipient masks to itself); unknown ids are skipped.
 */
export function erasureRoutes(db: Db): Router {
  const router = Router();
  router.post('/internal/v1/erasures', express.json({ limit: '1mb' }), async (req, res) => {
    const ids = (req.body as { messageIds?: unknown } | undefined)?.messageIds;
    if (!Array.isArray(ids) || ids.length > MAX_IDS || !ids.every((id) => typeof id === 'string' && CANONICAL_UUID.test(id))) {
      throw invalidErasure(`messageIds must be an array of at most ${MAX_IDS} UUIDs`);
    }
    const masked = await db.transaction(async (trx) => {
      const rows = await trx('messages').select('id', 'channel', 'recipient').whereIn('id', ids as string[]).forUpdate() as Array<{ id: string; channel: Channel; recipient: string }>;
      if (rows.length === 0) return 0;
      await trx.raw('UPDATE messages m SET recipient = u.masked FROM unnest(?::uuid[], ?::text[]) AS u(id, masked) WHERE m.id = u.id',
        [rows.map((r) => r.id), rows.map((r) => maskRecipient(r.channel, r.recipient))]);
      return rows.length;
    });
    res.json({ masked });
  });
  return router;
}
