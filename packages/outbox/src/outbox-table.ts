import type { Knex } from 'knex';

/** The outbox table's name inside the owning service's schema (createDb puts it on the search_path). */
export const OUTBOX_TABLE = 'outbox';

/**
 * Creates (or brings up to date) the outbox table in the current schema. Idempotent, so a service
 * calls it from a migration of its own; router-service's first outbox predates the claim columns and
 * is upgraded in place.
 *
 *   id               bigserial  publish order; per key, a row is never published before an earlier one
 *   topic, key       text       where it goes (key null: no ordering, e.g. an unreadable record's dead letter)
 *   value            text       the record value, JSON text
 *   headers          jsonb      Kafka headers incl. W3C traceparent/tracestate, built by enqueue()
 *   not_before       timestamptz the row waits until then (a retry's due time, a lease's expiry)
 *   claim_token      uuid       which relay round held the row last (set by claim, checked by delete;
 *                               kept after a failed publish, so null means "never handed to a producer")
 *   claim_expires_at timestamptz after this another relay may take the row (its holder died)
 *   lane             smallint   claim order before id (0 high, 1 medium, 2 low: LANE_ORDER), so a
 *                               round takes HIGH rows before a LOW backlog
 */
export async function createOutboxTable(db: Knex): Promise<void> {
  await db.raw(`
    CREATE TABLE IF NOT EXISTS outbox (
      id bigserial PRIMARY KEY,
      topic text NOT NULL,
      key text,
      value text NOT NULL,
      headers jsonb NOT NULL,
      created_at timestamptz NOT NULL
    )`);
  await db.raw('ALTER TABLE outbox ALTER COLUMN key DROP NOT NULL');
  await db.raw(`ALTER TABLE outbox
    ADD COLUMN IF NOT EXISTS not_before timestamptz,
    ADD COLUMN IF NOT EXISTS claim_token uuid,
    ADD COLUMN IF NOT EXISTS claim_expires_at timestamptz`);
  // The claim's "no earlier unpublished row of this key" check walks this index.
  await db.raw('CREATE INDEX IF NOT EXISTS outbox_key_id_idx ON outbox (key, id)');
  await db.raw('ALTER TABLE outbox ADD COLUMN IF NOT EXISTS lane smallint NOT NULL DEFAULT 1');
  // Claim order (lane, id); and the relay's "when is the next row due" lookup.
  await db.raw('CREATE INDEX IF NOT EXISTS outbox_lane_id_idx ON outbox (lane, id)');
  await db.raw('CREATE INDEX IF NOT EXISTS outbox_not_before_idx ON outbox (not_before) WHERE not_before IS NOT NULL');
}
