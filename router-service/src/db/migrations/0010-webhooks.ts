import type { Knex } from 'knex';

/**
 * Merchant status webhooks (docs/webhooks.md). Tenant-scoped rows: tenant_id comes first, every
 * query filters by it.
 *
 *   webhook_endpoints   where a merchant wants status events: url, the subscribed event types, the
 *                       signing secret (whsec_..., needed in clear to sign; shown to the merchant once),
 *                       failing_since (first failure of the current unbroken run of failures; a
 *                       success clears it) and disabled_at/_reason (set once that run lasts
 *                       WEBHOOK_DISABLE_AFTER_SECONDS)
 *   webhook_deliveries  the delivery log: one row per POST (attempt, status code, duration, error)
 */
export const webhooks = {
  name: '0010-webhooks',
  async up(db: Knex): Promise<void> {
    await db.schema.createTable('webhook_endpoints', (t) => {
      t.uuid('tenant_id').notNullable().references('id').inTable('tenants').onDelete('CASCADE');
      t.uuid('id').primary();
      t.text('url').notNullable();
      t.text('description');
      t.specificType('events', 'text[]').notNullable();
      t.text('secret').notNullable();
      t.timestamp('failing_since', { useTz: true });
      t.timestamp('disabled_at', { useTz: true });
      t.text('disabled_reason');
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.index(['tenant_id', 'created_at'], 'webhook_endpoints_tenant_idx');
    });
    await db.schema.createTable('webhook_deliveries', (t) => {
      t.uuid('tenant_id').notNullable();
      t.bigIncrements('id');
      t.uuid('endpoint_id').notNullable().references('id').inTable('webhook_endpoints').onDelete('CASCADE');
      t.text('webhook_id').notNullable();
      t.text('event_type').notNullable();
      t.uuid('message_id').notNullable();
      t.integer('attempt').notNullable();
      // delivered | failed | refused (SSRF) | abandoned (endpoint disabled or gone)
      t.text('outcome').notNullable();
      t.integer('status_code');
      t.integer('duration_ms').notNullable();
      t.text('error');
      t.timestamp('at', { useTz: true }).notNullable();
      t.index(['endpoint_id', 'id'], 'webhook_deliveries_endpoint_idx');
    });
  },
  async down(db: Knex): Promise<void> {
    await db.schema.dropTableIfExists('webhook_deliveries');
    await db.schema.dropTableIfExists('webhook_endpoints');
  },
};
