import type { Knex } from 'knex';

/**
 * Quiet hours (issue 9 item 6):
 *   templates.quiet_hours  the template version's `{ start, end }` (user-local HH:MM), or null
 *   messages.deferred_by   why send_at is later than the client asked: `quiet_hours` or
 *                          `rate_limit` (a per-user limit with policy defer); null otherwise
 */
export const quietHours = {
  name: '0009-quiet-hours',
  async up(db: Knex): Promise<void> {
    await db.raw('ALTER TABLE templates ADD COLUMN IF NOT EXISTS quiet_hours jsonb');
    await db.raw('ALTER TABLE messages ADD COLUMN IF NOT EXISTS deferred_by text');
  },
  async down(db: Knex): Promise<void> {
    await db.raw('ALTER TABLE messages DROP COLUMN IF EXISTS deferred_by');
    await db.raw('ALTER TABLE templates DROP COLUMN IF EXISTS quiet_hours');
  },
};
