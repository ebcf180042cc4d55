import type { Knex } from 'knex';
import { createOutboxTable } from '@ca/outbox';

/**
 * Scheduled sends, cancel and priority lanes (issue 9 items 4, 6, 8):
 *   messages.send_at      the client's sendAt (null: as soon as possible); the outbox row waits until
 *                         then (not_before), so "scheduled" survives any restart
 *   messages.canceled_at  set when a cancel removed the message before it reached Kafka (or
 *                         delivery-service confirmed the cancel)
 *   outbox.lane           @ca/outbox's claim order (HIGH rows before a LOW backlog)
 *   outbox_message_id_idx a cancel finds the message's unpublished row by its x-message-id header
 */
export const scheduling = {
  name: '0006-scheduling',
  async up(db: Knex): Promise<void> {
    await db.raw('ALTER TABLE messages ADD COLUMN IF NOT EXISTS send_at timestamptz, ADD COLUMN IF NOT EXISTS canceled_at timestamptz');
    await createOutboxTable(db);
    await db.raw(`CREATE INDEX IF NOT EXISTS outbox_message_id_idx ON outbox ((headers->>'x-message-id'))`);
  },
  async down(db: Knex): Promise<void> {
    await db.raw('DROP INDEX IF EXISTS outbox_message_id_idx');
    await db.raw('DROP INDEX IF EXISTS outbox_lane_id_idx');
    await db.raw('DROP INDEX IF EXISTS outbox_not_before_idx');
    await db.raw('ALTER TABLE outbox DROP COLUMN IF EXISTS lane');
    await db.raw('ALTER TABLE messages DROP COLUMN IF EXISTS send_at, DROP COLUMN IF EXISTS canceled_at');
  },
};
