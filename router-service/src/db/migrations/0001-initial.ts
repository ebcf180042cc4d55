import type { Knex } from 'knex';

/**
 * router-service's tables. Runs inside the service's own schema (createDb puts it first on the
 * search_path). Delivery state is not here: delivery-service owns it.
 */
export const initial = {
  name: '0001-initial',
  async up(db: Knex): Promise<void> {
    await db.schema.createTable('messages', (t) => {
      t.uuid('id').primary();
      t.text('channel').notNullable();
      t.text('recipient').notNullable();
      t.text('subject');
      t.text('body').notNullable();
      t.text('priority').notNullable();
      t.text('correlation_id');
      t.jsonb('metadata');
      t.specificType('trace_id', 'char(32)').notNullable();
      t.text('idempotency_key');
      t.timestamp('created_at', { useTz: true }).notNullable();
    });

    // One row per client Idempotency-Key. claim_token fences the accept transaction: a request whose
    // stale claim was taken over cannot complete the key (so it can never enqueue twice).
    await db.schema.createTable('idempotency_keys', (t) => {
      t.text('key').primary();
      t.specificType('request_hash', 'char(64)').notNullable();
      t.text('state').notNullable();
      t.uuid('claim_token').notNullable();
      t.timestamp('locked_until', { useTz: true });
      t.uuid('message_id');
      t.integer('response_status');
      t.jsonb('response_body');
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.timestamp('expires_at', { useTz: true }).notNullable().index();
    });
    await db.raw(`ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_state_check CHECK (state IN ('in_flight', 'completed'))`);

    // Content dedup claims: the primary key on the content hash is what makes 100 parallel
    // identical requests produce one message, across any number of router processes.
    await db.schema.createTable('dedup', (t) => {
      t.specificType('hash', 'char(64)').primary();
      t.uuid('message_id').notNullable();
      t.timestamp('expires_at', { useTz: true }).notNullable().index();
    });

    // Transactional outbox: written in the accept transaction, drained by the relay.
    await db.schema.createTable('outbox', (t) => {
      t.bigIncrements('id').primary();
      t.text('topic').notNullable();
      t.text('key').notNullable();
      t.text('value').notNullable();
      t.jsonb('headers').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable();
    });

    // Fixed-window counters per channel+recipient (bucket = sha256, so no recipient is copied here).
    await db.schema.createTable('rate_limits', (t) => {
      t.specificType('bucket', 'char(64)').notNullable();
      t.timestamp('window_start', { useTz: true }).notNullable().index();
      t.integer('count').notNullable();
      t.primary(['bucket', 'window_start']);
    });
  },
  async down(db: Knex): Promise<void> {
    for (const table of ['rate_limits', 'outbox', 'dedup', 'idempotency_keys', 'messages']) await db.schema.dropTableIfExists(table);
  },
};
