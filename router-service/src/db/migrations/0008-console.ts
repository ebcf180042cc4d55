import type { Knex } from 'knex';

/**
 * The merchant console: its users and sessions, and campaigns (a message text sent to the
 * recipients of uploaded CSV files). Every row carries the merchant's tenant_id.
 */
export const consoleTables = {
  name: '0008-console',
  async up(db: Knex): Promise<void> {
    await db.schema.createTable('console_users', (t) => {
      t.uuid('id').primary();
      t.uuid('tenant_id').notNullable().references('id').inTable('tenants').onDelete('CASCADE').index();
      // Stored lower-cased: one account per address however it is typed.
      t.text('email').notNullable().unique();
      t.text('password_hash').notNullable();
      // Consecutive failed sign-ins and the lockout they earned (reset by a successful sign-in).
      t.integer('failed_attempts').notNullable().defaultTo(0);
      t.timestamp('locked_until', { useTz: true });
      t.timestamp('created_at', { useTz: true }).notNullable();
    });

    // Only the SHA-256 of the session secret is stored (like API keys): a database read does not
    // yield a usable cookie.
    await db.schema.createTable('console_sessions', (t) => {
      t.specificType('id_hash', 'char(64)').primary();
      t.uuid('user_id').notNullable().references('id').inTable('console_users').onDelete('CASCADE').index();
      t.uuid('tenant_id').notNullable();
      t.text('csrf_token').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.timestamp('expires_at', { useTz: true }).notNullable().index();
    });

    await db.schema.createTable('campaigns', (t) => {
      t.uuid('id').primary();
      t.uuid('tenant_id').notNullable();
      t.text('name').notNullable();
      t.text('channel').notNullable();
      t.text('subject');
      t.text('body').notNullable();
      t.text('status').notNullable();
      t.timestamp('send_at', { useTz: true });
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.timestamp('started_at', { useTz: true });
      t.timestamp('canceled_at', { useTz: true });
      t.index(['tenant_id', 'created_at']);
    });
    await db.raw(`ALTER TABLE campaigns ADD CONSTRAINT campaigns_status_check CHECK (status IN ('draft', 'scheduled', 'running', 'canceled'))`);

    // One row per accepted CSV row. (campaign_id, row_key) is what makes uploading the same file
    // twice add nothing: row_key hashes the recipient and its parameters.
    await db.schema.createTable('campaign_recipients', (t) => {
      t.uuid('campaign_id').notNullable().references('id').inTable('campaigns').onDelete('CASCADE');
      t.specificType('row_key', 'char(64)').notNullable();
      t.uuid('tenant_id').notNullable();
      t.integer('line').notNullable();
      t.text('recipient').notNullable();
      t.text('user_id');
      t.jsonb('params').notNullable();
      // queued → enqueued (message row + outbox row written) | canceled.
      t.text('state').notNullable();
      t.uuid('message_id').unique();
      // The delivery outcome once terminal (sent, failed, dead_lettered); null while in flight.
      t.text('delivery_status');
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.primary(['campaign_id', 'row_key']);
    });
    await db.raw(`ALTER TABLE campaign_recipients ADD CONSTRAINT campaign_recipients_state_check CHECK (state IN ('queued', 'enqueued', 'canceled'))`);
    await db.raw(`CREATE INDEX campaign_recipients_queued_idx ON campaign_recipients (campaign_id, line) WHERE state = 'queued'`);
    await db.raw(`CREATE INDEX campaign_recipients_in_flight_idx ON campaign_recipients (campaign_id) WHERE state = 'enqueued' AND delivery_status IS NULL`);

    // Each upload's outcome, kept so its report (line, reason) can be downloaded.
    await db.schema.createTable('campaign_uploads', (t) => {
      t.uuid('id').primary();
      t.uuid('campaign_id').notNullable().references('id').inTable('campaigns').onDelete('CASCADE').index();
      t.uuid('tenant_id').notNullable();
      t.integer('rows').notNullable();
      t.integer('accepted').notNullable();
      t.integer('duplicates').notNullable();
      t.jsonb('rejected').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable();
    });
  },
  async down(db: Knex): Promise<void> {
    for (const table of ['campaign_uploads', 'campaign_recipients', 'campaigns', 'console_sessions', 'console_users']) await db.schema.dropTableIfExists(table);
  },
};
