import type { Knex } from 'knex';
import type { AcceptedView, SendMessageRequest } from '@ca/contracts';
import { addSeconds } from '../clock';
import { recipientBucket } from '../ratelimit/recipient-rate-limit';

/** One valid batch item, ready to store. */
export interface BatchEntry {
  index: number;
  id: string;
  message: SendMessageRequest;
  sendAt: Date | null;
  /** The 202 body this item answers (replayed for its key). */
  body: AcceptedView;
  outbox: { topic: string; key: string | null; value: string; headers: Record<string, string>; lane: number };
  /** With an idempotency key: the key and the request hash. Without: the content hash. */
  key?: { key: string; hash: string };
  contentHash?: string;
}

export type BatchOutcome =
  | { kind: 'accepted' }
  | { kind: 'replay'; status: number; body: AcceptedView }
  | { kind: 'key_reused' }
  | { kind: 'key_in_flight' }
  | { kind: 'duplicate'; duplicateOf: string }
  | { kind: 'rate_limited' };

export interface BatchSettings {
  tenantId: string;
  traceId: string;
  now: Date;
  dedupWindowSeconds: number;
  idempotencyTtlSeconds: number;
  rateLimitPerMinute: number;
}

/**
 * Stores a batch's valid items in ONE transaction with a fixed number of multi-row statements (not
 * one round trip per item): idempotency keys → content claims → recipient counters → messages →
 * outbox rows. Each step decides per item with the same PostgreSQL constraints as the single accept,
 * so a batch and single requests racing for a key or a content hash get one winner. Rows are taken
 * in a fixed order (keys, hashes, buckets sorted) so two batches cannot deadlock each other.
 * Returns one outcome per entry, in the order given.
 */
export async function storeBatch(db: Knex, entries: readonly BatchEntry[], s: BatchSettings): Promise<BatchOutcome[]> {
  const outcome = new Map<number, BatchOutcome>();
  if (entries.length === 0) return [];
  await db.transaction(async (trx) => {
    // 1. Keys: claim every new (or expired) key as completed; the row becomes visible at commit.
    const keyed = entries.filter((e) => e.key).sort((a, b) => (a.key!.key < b.key!.key ? -1 : a.key!.key > b.key!.key ? 1 : a.index - b.index));
    const firstOfKey = new Map<string, BatchEntry>();
    for (const e of keyed) {
      const first = firstOfKey.get(e.key!.key);
      if (!first) firstOfKey.set(e.key!.key, e);
      // The same key twice in one batch: the later item replays the first, or is a reuse.
      else outcome.set(e.index, first.key!.hash === e.key!.hash ? { kind: 'replay', status: 202, body: first.body } : { kind: 'key_reused' });
    }
    const claims = [...firstOfKey.values()];
    if (claims.length > 0) {
      const { rows } = await trx.raw<{ rows: Array<{ key: string }> }>(
        `INSERT INTO idempotency_keys (tenant_id, key, request_hash, state, claim_token, locked_until, message_id, response_status, response_body, created_at, expires_at)
         SELECT CAST(? AS uuid), v.key, v.hash, 'completed', gen_random_uuid(), NULL, v.mid, 202, v.body, CAST(? AS timestamptz), CAST(? AS timestamptz)
           FROM jsonb_to_recordset(CAST(? AS jsonb)) AS v(key text, hash text, mid uuid, body jsonb)
         ON CONFLICT (tenant_id, key) DO UPDATE SET request_hash = excluded.request_hash, state = 'completed', claim_token = excluded.claim_token,
           locked_until = NULL, message_id = excluded.message_id, response_status = 202, response_body = excluded.response_body,
           created_at = excluded.created_at, expires_at = excluded.expires_at
         WHERE idempotency_keys.expires_at <= CAST(? AS timestamptz)
            OR (idempotency_keys.state = 'in_flight' AND idempotency_keys.locked_until <= CAST(? AS timestamptz))
         RETURNING key`,
        [s.tenantId, s.now, addSeconds(s.now, s.idempotencyTtlSeconds),
          JSON.stringify(claims.map((e) => ({ key: e.key!.key, hash: e.key!.hash, mid: e.id, body: e.body }))), s.now, s.now],
      );
      const won = new Set(rows.map((r) => r.key));
      const lost = claims.filter((e) => !won.has(e.key!.key));
      if (lost.length > 0) {
        const existing: Array<{ key: string; request_hash: string; state: string; response_status: number | null; response_body: AcceptedView | null }> =
          await trx('idempotency_keys').select('key', 'request_hash', 'state', 'response_status', 'response_body')
            .where({ tenant_id: s.tenantId }).whereIn('key', lost.map((e) => e.key!.key));
        const byKey = new Map(existing.map((r) => [r.key, r]));
        for (const e of lost) {
          const row = byKey.get(e.key!.key);
          if (row && row.request_hash.trim() !== e.key!.hash) outcome.set(e.index, { kind: 'key_reused' });
          else if (row?.state === 'completed' && row.response_status !== null && row.response_body !== null) {
            outcome.set(e.index, { kind: 'replay', status: row.response_status, body: row.response_body });
          } else outcome.set(e.index, { kind: 'key_in_flight' });
        }
      }
      // A later item replaying a first one that did not go through gets the first one's fate.
      for (const e of keyed) {
        const first = firstOfKey.get(e.key!.key)!;
        const o = outcome.get(e.index);
        if (first !== e && o?.kind === 'replay' && outcome.has(first.index)) outcome.set(e.index, outcome.get(first.index)!);
      }
    }

    // 2. Content claims for items without a key (the same text twice in one batch: the later is a duplicate).
    const unkeyed = entries.filter((e) => !e.key && !outcome.has(e.index));
    const firstOfHash = new Map<string, BatchEntry>();
    for (const e of unkeyed) {
      const first = firstOfHash.get(e.contentHash!);
      if (first) outcome.set(e.index, { kind: 'duplicate', duplicateOf: first.id });
      else firstOfHash.set(e.contentHash!, e);
    }
    const hashed = [...firstOfHash.values()].sort((a, b) => (a.contentHash! < b.contentHash! ? -1 : 1));
    if (hashed.length > 0) {
      const { rows } = await trx.raw<{ rows: Array<{ hash: string; message_id: string }> }>(
        `INSERT INTO dedup (tenant_id, hash, message_id, expires_at)
         SELECT CAST(? AS uuid), v.hash, v.mid, CAST(? AS timestamptz) FROM jsonb_to_recordset(CAST(? AS jsonb)) AS v(hash text, mid uuid)
         ON CONFLICT (tenant_id, hash) DO UPDATE SET message_id = excluded.message_id, expires_at = excluded.expires_at
         WHERE dedup.expires_at <= CAST(? AS timestamptz)
         RETURNING hash, message_id`,
        [s.tenantId, addSeconds(s.now, s.dedupWindowSeconds), JSON.stringify(hashed.map((e) => ({ hash: e.contentHash, mid: e.id }))), s.now],
      );
      const won = new Set(rows.map((r) => r.hash.trim()));
      const lost = hashed.filter((e) => !won.has(e.contentHash!));
      if (lost.length > 0) {
        const holders: Array<{ hash: string; message_id: string }> = await trx('dedup').select('hash', 'message_id')
          .where({ tenant_id: s.tenantId }).whereIn('hash', lost.map((e) => e.contentHash!));
        const byHash = new Map(holders.map((h) => [h.hash.trim(), h.message_id]));
        for (const e of lost) outcome.set(e.index, { kind: 'duplicate', duplicateOf: byHash.get(e.contentHash!) ?? '' });
      }
      for (const e of unkeyed) {
        const o = outcome.get(e.index);
        const first = firstOfHash.get(e.contentHash!)!;
        if (o?.kind === 'duplicate' && first !== e && outcome.has(first.index)) outcome.set(e.index, { kind: 'duplicate', duplicateOf: (outcome.get(first.index) as { duplicateOf?: string }).duplicateOf ?? first.id });
      }
    }

    // 3. Recipient counters: each bucket counts its items at once; the ones over the limit (the
    //    later ones) are refused and given back, so only accepted messages use the quota.
    let going = entries.filter((e) => !outcome.has(e.index));
    if (s.rateLimitPerMinute > 0 && going.length > 0) {
      const buckets = new Map<string, { windowStart: Date; items: BatchEntry[] }>();
      for (const e of going) {
        const b = recipientBucket(e.message.channel, e.message.to, s.now);
        const slot = buckets.get(b.bucket) ?? { windowStart: b.windowStart, items: [] };
        slot.items.push(e);
        buckets.set(b.bucket, slot);
      }
      const sorted = [...buckets].sort(([a], [b]) => (a < b ? -1 : 1));
      const { rows } = await trx.raw<{ rows: Array<{ bucket: string; count: number }> }>(
        `INSERT INTO rate_limits (tenant_id, bucket, window_start, count)
         SELECT CAST(? AS uuid), v.bucket, v.ws, v.n FROM jsonb_to_recordset(CAST(? AS jsonb)) AS v(bucket text, ws timestamptz, n int)
         ON CONFLICT (tenant_id, bucket, window_start) DO UPDATE SET count = rate_limits.count + excluded.count
         RETURNING bucket, count`,
        [s.tenantId, JSON.stringify(sorted.map(([bucket, slot]) => ({ bucket, ws: slot.windowStart, n: slot.items.length })))],
      );
      const giveBack: Array<{ bucket: string; ws: Date; n: number }> = [];
      for (const r of rows) {
        const slot = buckets.get(r.bucket.trim())!;
        const n = slot.items.length;
        const allowed = Math.max(0, Math.min(n, s.rateLimitPerMinute - (r.count - n)));
        if (allowed < n) {
          for (const e of slot.items.slice(allowed)) outcome.set(e.index, { kind: 'rate_limited' });
          giveBack.push({ bucket: r.bucket.trim(), ws: slot.windowStart, n: n - allowed });
        }
      }
      if (giveBack.length > 0) {
        await trx.raw(
          `UPDATE rate_limits r SET count = r.count - v.n FROM jsonb_to_recordset(CAST(? AS jsonb)) AS v(bucket text, ws timestamptz, n int)
            WHERE r.tenant_id = CAST(? AS uuid) AND r.bucket = v.bucket AND r.window_start = v.ws`,
          [JSON.stringify(giveBack), s.tenantId],
        );
        const refused = entries.filter((e) => outcome.get(e.index)?.kind === 'rate_limited');
        // Their key and content claims were taken in this transaction: release them with the item.
        await trx('dedup').where({ tenant_id: s.tenantId }).whereIn('message_id', refused.map((e) => e.id)).delete();
        await trx('idempotency_keys').where({ tenant_id: s.tenantId }).whereIn('message_id', refused.map((e) => e.id)).delete();
      }
      going = going.filter((e) => !outcome.has(e.index));
    }

    // 4. The accepted messages and their outbox rows, two multi-row statements (outbox in item order:
    //    a recipient's messages keep their order within the batch).
    if (going.length > 0) {
      await trx.raw(
        `INSERT INTO messages (id, tenant_id, channel, recipient, subject, body, priority, correlation_id, metadata, trace_id, idempotency_key, created_at, send_at)
         SELECT v.id, CAST(? AS uuid), v.channel, v.recipient, v.subject, v.body, v.priority, v.correlation_id, v.metadata, CAST(? AS char(32)), v.key,
                CAST(? AS timestamptz), v.send_at
           FROM jsonb_to_recordset(CAST(? AS jsonb)) AS v(id uuid, channel text, recipient text, subject text, body text, priority text,
                correlation_id text, metadata jsonb, key text, send_at timestamptz)`,
        [s.tenantId, s.traceId, s.now, JSON.stringify(going.map((e) => ({
          id: e.id, channel: e.message.channel, recipient: e.message.to, subject: e.message.subject ?? null, body: e.message.body,
          priority: e.message.priority, correlation_id: e.message.correlationId ?? null, metadata: e.message.metadata ?? null,
          key: e.key?.key ?? null, send_at: e.sendAt,
        })))],
      );
      await trx.raw(
        `INSERT INTO outbox (topic, key, value, headers, created_at, not_before, lane)
         SELECT v.topic, v.key, v.value, v.headers, CAST(? AS timestamptz), v.not_before, v.lane
           FROM ROWS FROM (jsonb_to_recordset(CAST(? AS jsonb)) AS (topic text, key text, value text, headers jsonb, not_before timestamptz, lane smallint))
                WITH ORDINALITY AS v(topic, key, value, headers, not_before, lane, n)
          ORDER BY v.n`,
        [s.now, JSON.stringify(going.map((e) => ({ ...e.outbox, not_before: e.sendAt })))],
      );
      for (const e of going) outcome.set(e.index, { kind: 'accepted' });
    }
  });
  return entries.map((e) => outcome.get(e.index) ?? { kind: 'key_in_flight' });
}
