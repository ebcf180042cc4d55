import type { Knex } from 'knex';
import { createOutboxTable } from '@ca/outbox';
import { listMigrations } from '@ca/postgres';

/** The simulated provider's call and effect ledgers: delivery's 001_init and provider-sim's 001_sim create the same two tables. */
export async function createSimTables(db: Knex): Promise<void> {
    await db.schema.createTable('sim_provider_calls', (t) => {
      t.bigIncrements('id');
      t.text('idempotency_key').notNullable().index();
      t.text('channel').notNullable();
      t.integer('call_number').notNullable();
      t.text('outcome').notNullable();
      t.timestamp('at', { useTz: true }).notNullable();
    });
    await db.schema.createTable('sim_provider_effects', (t) => {
      t.text('idempotency_key').primary();
      t.text('channel').notNullable();
      t.text('provider_message_id').notNullable();
      t.text('recipient_masked').notNullable();
      t.timestamp('at', { useTz: true }).notNullable();
    });
}

/**
 * delivery-service's tables, in its own schema. Versioned: add a new entry, never edit one that
 * has shipped. The sim_provider_* tables stand in for the simulated provider's own database: they
 * record every call and every delivered effect, and survive a delivery-service crash like a real
 * provider's records would.
 */
const init = {
  name: '001_init',
  async up(db: Knex) {
    await db.schema.createTable('messages', (t) => {
      t.uuid('id').primary();
      t.text('channel').notNullable();
      t.text('recipient').notNullable();
      t.text('subject');
      t.text('body').notNullable();
      t.text('priority').notNullable();
      t.text('correlation_id');
      t.jsonb('metadata');
      t.text('trace_id').notNullable();
      t.text('status').notNullable().defaultTo('pending');
      t.integer('attempts').notNullable().defaultTo(0);
      t.timestamp('last_attempted_at', { useTz: true });
      // When the next attempt may run (a retry's due time, or the lease expiry of a claimed row).
      t.timestamp('due_at', { useTz: true });
      // Set by the scheduler when it re-publishes, so one due row is re-published once per grace.
      t.timestamp('republish_after', { useTz: true });
      t.text('lease_owner');
      t.timestamp('lease_until', { useTz: true });
      t.bigInteger('fence').notNullable().defaultTo(0);
      t.text('error_message');
      t.text('provider_message_id');
      // W3C headers of the last attempt span: the parent of the next attempt's trace.
      t.jsonb('trace_context');
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.timestamp('updated_at', { useTz: true }).notNullable();
      t.index(['status', 'due_at'], 'messages_due_idx');
    });
    await db.schema.createTable('attempts', (t) => {
      t.uuid('message_id').notNullable().references('id').inTable('messages');
      t.integer('n').notNullable();
      t.timestamp('started_at', { useTz: true }).notNullable();
      t.timestamp('finished_at', { useTz: true }).notNullable();
      t.text('outcome').notNullable();
      t.text('error');
      t.integer('backoff_ms');
      t.text('provider_message_id');
      t.text('worker').notNullable();
      t.primary(['message_id', 'n']);
    });
    await db.schema.createTable('delivery_ledger', (t) => {
      t.uuid('message_id').primary();
      t.bigInteger('fence').notNullable();
      t.text('state').notNullable(); // calling | delivered
      t.text('provider_message_id');
      t.timestamp('called_at', { useTz: true }).notNullable();
      t.timestamp('delivered_at', { useTz: true });
    });
    await createSimTables(db);
  },
  async down(db: Knex) {
    for (const table of ['sim_provider_effects', 'sim_provider_calls', 'delivery_ledger', 'attempts', 'messages']) {
      await db.schema.dropTableIfExists(table);
    }
  },
};

/**
 * The merchant each message belongs to (from the send record's tenantId). Nullable: records written
 * before merchants existed have none.
 */
const tenants = {
  name: '002_tenants',
  async up(db: Knex) {
    await db.schema.alterTable('messages', (t) => {
      t.uuid('tenant_id');
    });
  },
  async down(db: Knex) {
    await db.schema.alterTable('messages', (t) => {
      t.dropColumn('tenant_id');
    });
  },
};

/**
 * Every publish goes through @ca/outbox: retries are outbox rows with not_before = due time, a claim
 * enqueues a revival row (not_before = lease expiry) that the attempt's finish deletes, so a dead
 * worker's message is re-published without a scheduler. due_at now only means "retry due time".
 */
const outbox = {
  name: '003_outbox',
  async up(db: Knex) {
    await createOutboxTable(db);
    await db.raw('ALTER TABLE messages DROP COLUMN IF EXISTS republish_after, DROP COLUMN IF EXISTS trace_context');
    await db.raw('ALTER TABLE messages ADD COLUMN IF NOT EXISTS revival_outbox_id bigint');
  },
  async down(db: Knex) {
    await db.raw('ALTER TABLE messages DROP COLUMN IF EXISTS revival_outbox_id');
    await db.raw('ALTER TABLE messages ADD COLUMN IF NOT EXISTS republish_after timestamptz, ADD COLUMN IF NOT EXISTS trace_context jsonb');
    await db.schema.dropTableIfExists('outbox');
  },
};

/**
 * Cancel and priority lanes (issue 9): a cancel that arrives before the send record leaves a
 * tombstone row (status canceled, no recipient or body: it never had them), so recipient and body
 * become nullable; the outbox gets @ca/outbox's lane column.
 */
const cancelLanes = {
  name: '004_cancel_lanes',
  async up(db: Knex) {
    await db.raw('ALTER TABLE messages ALTER COLUMN recipient DROP NOT NULL, ALTER COLUMN body DROP NOT NULL');
    await db.raw('ALTER TABLE messages ADD COLUMN IF NOT EXISTS canceled_at timestamptz');
    await createOutboxTable(db);
  },
  async down(db: Knex) {
    await db.raw('ALTER TABLE messages DROP COLUMN IF EXISTS canceled_at');
    await db.raw('DROP INDEX IF EXISTS outbox_lane_id_idx');
    await db.raw('DROP INDEX IF EXISTS outbox_not_before_idx');
    await db.raw('ALTER TABLE outbox DROP COLUMN IF EXISTS lane');
  },
};

/**
 * Real providers (issue 11): each tenant's providers per channel (credentials sealed with
 * AES-256-GCM, never stored in clear), the per-tenant suppression list, and the ledger's pin — the
 * provider a call for this message may have reached, so a retry after an ambiguous failure goes to
 * that provider only and never to a second one.
 */
const providers = {
  name: '005_providers',
  async up(db: Knex) {
    await db.schema.createTable('provider_configs', (t) => {
      t.uuid('tenant_id').notNullable();
      t.text('channel').notNullable();
      t.text('name').notNullable();
      t.text('kind').notNullable();
      t.integer('position').notNullable();
      t.integer('weight').notNullable().defaultTo(1);
      t.text('mode').notNullable().defaultTo('ordered');
      t.jsonb('settings').notNullable();
      t.text('credentials_sealed');
      t.timestamp('updated_at', { useTz: true }).notNullable();
      t.primary(['tenant_id', 'channel', 'name']);
    });
    await db.schema.createTable('suppressions', (t) => {
      t.uuid('tenant_id').notNullable();
      t.text('channel').notNullable();
      t.text('recipient').notNullable();
      t.text('reason').notNullable();
      t.text('provider');
      t.uuid('message_id');
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.primary(['tenant_id', 'channel', 'recipient']);
    });
    await db.schema.alterTable('delivery_ledger', (t) => {
      t.text('provider');
    });
    // Re-drive of a dead letter (item 7): attempts before it do not count against MAX_ATTEMPTS.
    await db.schema.alterTable('messages', (t) => {
      t.integer('attempt_base').notNullable().defaultTo(0);
      t.integer('redrives').notNullable().defaultTo(0);
    });
  },
  async down(db: Knex) {
    await db.schema.alterTable('messages', (t) => {
      t.dropColumn('attempt_base');
      t.dropColumn('redrives');
    });
    await db.schema.alterTable('delivery_ledger', (t) => {
      t.dropColumn('provider');
    });
    await db.schema.dropTableIfExists('suppressions');
    await db.schema.dropTableIfExists('provider_configs');
  },
};

/** The live dashboard (router GET /v1/dashboard): one merchant's messages since a time, read by an index range. */
const statsIndex = {
  name: '006_stats_index',
  async up(db: Knex) {
    await db.raw('CREATE INDEX IF NOT EXISTS messages_tenant_created_idx ON messages (tenant_id, created_at)');
  },
  async down(db: Knex) {
    await db.raw('DROP INDEX IF EXISTS messages_tenant_created_idx');
  },
};

/**
 * Delivery receipts (issue 11 item 5). `attempt_traceparent` is the W3C traceparent of the attempt
 * span that sent the message: a receipt's span is its child and links to it, so the receipt joins
 * the message's trace. `receipts` keeps every callback once (provider, provider message id,
 * provider status): a repeated callback changes nothing; one that arrives before the attempt's
 * commit (message_id null) is applied by that commit. The index finds a message by the provider's id.
 */
const receipts = {
  name: '007_receipts',
  async up(db: Knex) {
    await db.raw('ALTER TABLE messages ADD COLUMN IF NOT EXISTS attempt_traceparent text');
    await db.raw('CREATE INDEX IF NOT EXISTS messages_provider_message_id_idx ON messages (provider_message_id) WHERE provider_message_id IS NOT NULL');
    await db.schema.createTable('receipts', (t) => {
      t.text('provider').notNullable();
      t.text('provider_message_id').notNullable();
      t.text('provider_status').notNullable();
      // delivered | bounced | undelivered; null: an intermediate update (queued, sent), recorded only.
      t.text('status');
      t.text('error_code');
      t.uuid('message_id');
      t.timestamp('received_at', { useTz: true }).notNullable();
      t.primary(['provider', 'provider_message_id', 'provider_status']);
    });
    await db.raw('CREATE INDEX receipts_unmatched_idx ON receipts (provider_message_id) WHERE message_id IS NULL');
  },
  async down(db: Knex) {
    await db.schema.dropTableIfExists('receipts');
    await db.raw('DROP INDEX IF EXISTS messages_provider_message_id_idx');
    await db.raw('ALTER TABLE messages DROP COLUMN IF EXISTS attempt_traceparent');
  },
};

export const deliveryMigrations = listMigrations([init, tenants, outbox, cancelLanes, providers, statsIndex, receipts]);
