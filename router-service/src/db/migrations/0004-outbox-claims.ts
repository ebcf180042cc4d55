import type { Knex } from 'knex';
import { createOutboxTable } from '@ca/outbox';

/** The outbox becomes @ca/outbox's table: not_before and claim columns, a nullable key. */
export const outboxClaims = {
  name: '0004-outbox-claims',
  async up(db: Knex): Promise<void> {
    await createOutboxTable(db);
  },
  async down(db: Knex): Promise<void> {
    await db.raw('DROP INDEX IF EXISTS outbox_key_id_idx');
    await db.raw('ALTER TABLE outbox DROP COLUMN IF EXISTS not_before, DROP COLUMN IF EXISTS claim_token, DROP COLUMN IF EXISTS claim_expires_at');
  },
};
