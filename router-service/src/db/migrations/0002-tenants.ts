import type { Knex } from 'knex';

/**
 * Merchants (tenants) and their API keys, the per-key token buckets, and the tenant id on every row
 * a merchant owns. Rows written before this migration belong to the `default` merchant (the one
 * BOOTSTRAP_API_KEY attaches to), so nothing already accepted changes hands or is lost.
 */
export const DEFAULT_TENANT_ID = '00000000-0000-4000-8000-000000000000';

const OWNED = ['messages', 'idempotency_keys', 'dedup', 'rate_limits'] as const;

export const tenants = {
  name: '0002-tenants',
  async up(db: Knex): Promise<void> {
    await db.schema.createTable('tenants', (t) => {
      t.uuid('id').primary();
      t.text('name').notNullable().unique();
      // Per-merchant override of the API rate limit (null: the service default).
      t.integer('rate_limit_burst');
      t.double('rate_limit_per_second');
      t.timestamp('created_at', { useTz: true }).notNullable();
    });
    await db('tenants').insert({ id: DEFAULT_TENANT_ID, name: 'default', created_at: new Date() });

    // Only the SHA-256 of a key is stored: the secret has 256 bits of entropy, so a fast hash is
    // enough (no dictionary to attack) and lets every request find its key by an index lookup.
    await db.schema.createTable('api_keys', (t) => {
      t.uuid('id').primary();
      t.uuid('tenant_id').notNullable().references('id').inTable('tenants').onDelete('CASCADE').index();
      t.text('name');
      t.text('prefix').notNullable();
      t.specificType('hash', 'char(64)').notNullable().unique();
      t.specificType('scopes', 'text[]').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.timestamp('expires_at', { useTz: true });
      t.timestamp('revoked_at', { useTz: true });
    });

    // One token bucket per API key, shared by every router process (one statement per request).
    await db.schema.createTable('api_rate_buckets', (t) => {
      t.uuid('key_id').primary().references('id').inTable('api_keys').onDelete('CASCADE');
      t.double('tokens').notNullable();
      t.boolean('allowed').notNullable();
      t.timestamp('updated_at', { useTz: true }).notNullable();
    });

    for (const table of OWNED) {
      await db.raw(`ALTER TABLE ?? ADD COLUMN tenant_id uuid NOT NULL DEFAULT '${DEFAULT_TENANT_ID}'`, [table]);
      await db.raw('ALTER TABLE ?? ALTER COLUMN tenant_id DROP DEFAULT', [table]);
    }
    // Idempotency keys, content claims and recipient counters are per merchant: two merchants that
    // both use `order-123` (or send the same text to the same number) never meet.
    await db.raw('ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey, ADD PRIMARY KEY (tenant_id, key)');
    await db.raw('ALTER TABLE dedup DROP CONSTRAINT dedup_pkey, ADD PRIMARY KEY (tenant_id, hash)');
    await db.raw('ALTER TABLE rate_limits DROP CONSTRAINT rate_limits_pkey, ADD PRIMARY KEY (tenant_id, bucket, window_start)');
    await db.raw('CREATE INDEX messages_tenant_created_idx ON messages (tenant_id, created_at DESC, id)');
  },
  async down(db: Knex): Promise<void> {
    await db.raw('DROP INDEX IF EXISTS messages_tenant_created_idx');
    await db.raw('ALTER TABLE rate_limits DROP CONSTRAINT rate_limits_pkey, ADD PRIMARY KEY (bucket, window_start)');
    await db.raw('ALTER TABLE dedup DROP CONSTRAINT dedup_pkey, ADD PRIMARY KEY (hash)');
    await db.raw('ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey, ADD PRIMARY KEY (key)');
    for (const table of OWNED) await db.raw('ALTER TABLE ?? DROP COLUMN tenant_id', [table]);
    for (const table of ['api_rate_buckets', 'api_keys', 'tenants']) await db.schema.dropTableIfExists(table);
  },
};
