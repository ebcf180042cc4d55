import type { Knex } from 'knex';

/**
 * GET /v1/messages (and GraphQL `messages`): the status projection and the listing indexes.
 *
 * Delivery state is owned by delivery-service; it announces every change on the status topic
 * (through its outbox, in the transaction of the change). The router keeps a copy here only to
 * filter and page by status (messages/status-projection.ts): `status_version` is the fence of the
 * claim that wrote the event, so a replayed older event never overwrites a newer one.
 *
 * Every index leads with tenant_id and ends with (created_at DESC, id DESC), the keyset order of
 * the listing, so one page is an index range scan of `limit` rows whatever the table size.
 * user_id/template_id come from 0005 (users and templates); IF NOT EXISTS keeps this migration
 * valid on a schema where they are already there.
 */
export const messageListing = {
  name: '0007-message-listing',
  async up(db: Knex): Promise<void> {
    await db.raw(`ALTER TABLE messages
      ADD COLUMN IF NOT EXISTS user_id text,
      ADD COLUMN IF NOT EXISTS template_id text,
      ADD COLUMN status text NOT NULL DEFAULT 'pending',
      ADD COLUMN status_version bigint NOT NULL DEFAULT 0,
      ADD COLUMN delivery_attempts integer NOT NULL DEFAULT 0,
      ADD COLUMN last_attempted_at timestamptz,
      ADD COLUMN status_updated_at timestamptz`);
    // Supersedes 0002's (tenant_id, created_at DESC, id): the keyset compares (created_at, id) in one direction.
    await db.raw('DROP INDEX IF EXISTS messages_tenant_created_idx');
    await db.raw('CREATE INDEX messages_list_idx ON messages (tenant_id, created_at DESC, id DESC)');
    await db.raw('CREATE INDEX messages_list_status_idx ON messages (tenant_id, status, created_at DESC, id DESC)');
    await db.raw('CREATE INDEX messages_list_channel_idx ON messages (tenant_id, channel, created_at DESC, id DESC)');
    await db.raw('CREATE INDEX messages_list_correlation_idx ON messages (tenant_id, correlation_id, created_at DESC, id DESC) WHERE correlation_id IS NOT NULL');
    await db.raw('CREATE INDEX messages_list_user_idx ON messages (tenant_id, user_id, created_at DESC, id DESC) WHERE user_id IS NOT NULL');
    // 0005's user/template indexes end in created_at only; these supersede them.
    await db.raw('DROP INDEX IF EXISTS messages_tenant_user_idx');
    await db.raw('DROP INDEX IF EXISTS messages_tenant_template_idx');
    await db.raw('CREATE INDEX messages_list_template_idx ON messages (tenant_id, template_id, created_at DESC, id DESC) WHERE template_id IS NOT NULL');
  },
  async down(db: Knex): Promise<void> {
    for (const idx of ['messages_list_template_idx', 'messages_list_user_idx', 'messages_list_correlation_idx', 'messages_list_channel_idx', 'messages_list_status_idx', 'messages_list_idx']) {
      await db.raw('DROP INDEX IF EXISTS ??', [idx]);
    }
    await db.raw('CREATE INDEX IF NOT EXISTS messages_tenant_created_idx ON messages (tenant_id, created_at DESC, id)');
    await db.raw(`ALTER TABLE messages DROP COLUMN status, DROP COLUMN status_version, DROP COLUMN delivery_attempts,
      DROP COLUMN last_attempted_at, DROP COLUMN status_updated_at`);
  },
};
