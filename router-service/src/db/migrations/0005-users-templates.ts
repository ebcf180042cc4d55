import type { Knex } from 'knex';

/**
 * Recipient profiles, versioned templates, per-user rate counters, and on each message the user and
 * template (version) it was sent for (null for raw POST /v1/messages sends).
 *
 *   users               one row per (tenant, client's user id): addresses per channel (jsonb arrays),
 *                       locale, IANA time zone, opt-outs (channels, template categories)
 *   templates           one row per (tenant, template id, version): an update inserts version n+1,
 *                       old versions stay (a message names the version it rendered)
 *   tenants.user_rate_limit  the merchant's per-user policy (null: the service default)
 *   user_rate_counters  fixed windows per (tenant, bucket = sha256 of user[+template] + window size),
 *                       expires_at so pruning keeps a 5-minute window for its whole length
 */
export const usersTemplates = {
  name: '0005-users-templates',
  async up(db: Knex): Promise<void> {
    await db.schema.createTable('users', (t) => {
      t.uuid('tenant_id').notNullable().references('id').inTable('tenants').onDelete('CASCADE');
      t.text('user_id').notNullable();
      t.jsonb('addresses').notNullable();
      t.text('locale');
      t.text('time_zone');
      t.jsonb('preferences').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.timestamp('updated_at', { useTz: true }).notNullable();
      t.primary(['tenant_id', 'user_id']);
    });

    await db.schema.createTable('templates', (t) => {
      t.uuid('tenant_id').notNullable().references('id').inTable('tenants').onDelete('CASCADE');
      t.text('template_id').notNullable();
      t.integer('version').notNullable();
      t.text('category').notNullable();
      t.text('default_locale').notNullable();
      t.jsonb('variants').notNullable();
      t.jsonb('rate_limit');
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.primary(['tenant_id', 'template_id', 'version']);
    });

    await db.schema.createTable('user_rate_counters', (t) => {
      t.uuid('tenant_id').notNullable();
      t.specificType('bucket', 'char(64)').notNullable();
      t.timestamp('window_start', { useTz: true }).notNullable();
      t.integer('count').notNullable();
      t.timestamp('expires_at', { useTz: true }).notNullable().index();
      t.primary(['tenant_id', 'bucket', 'window_start']);
    });

    // Per-merchant override of the per-user limit (null: USER_RATE_* settings).
    await db.raw('ALTER TABLE tenants ADD COLUMN user_rate_limit jsonb');

    await db.raw(`ALTER TABLE messages
      ADD COLUMN user_id text,
      ADD COLUMN template_id text,
      ADD COLUMN template_version integer,
      ADD COLUMN html text`);
    // A user's history (erasure masks it; listings filter by it) without scanning the tenant's messages.
    await db.raw('CREATE INDEX messages_tenant_user_idx ON messages (tenant_id, user_id, created_at DESC) WHERE user_id IS NOT NULL');
    await db.raw('CREATE INDEX messages_tenant_template_idx ON messages (tenant_id, template_id, created_at DESC) WHERE template_id IS NOT NULL');
  },
  async down(db: Knex): Promise<void> {
    await db.raw('DROP INDEX IF EXISTS messages_tenant_template_idx');
    await db.raw('DROP INDEX IF EXISTS messages_tenant_user_idx');
    await db.raw('ALTER TABLE messages DROP COLUMN IF EXISTS user_id, DROP COLUMN IF EXISTS template_id, DROP COLUMN IF EXISTS template_version, DROP COLUMN IF EXISTS html');
    await db.raw('ALTER TABLE tenants DROP COLUMN IF EXISTS user_rate_limit');
    for (const table of ['user_rate_counters', 'templates', 'users']) await db.schema.dropTableIfExists(table);
  },
};
