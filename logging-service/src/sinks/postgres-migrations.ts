import type { Knex } from 'knex';

/**
 * One table for every document kind, so the PostgreSQL store returns exactly what Elasticsearch
 * would: the full document as jsonb plus the columns the trace and log APIs filter on.
 */
export const MIGRATIONS = [
  {
    name: '001_documents',
    async up(db: Knex): Promise<void> {
      await db.schema.createTable('documents', (t) => {
        t.text('id').primary(); // the Elasticsearch _id: a retried export inserts nothing new
        t.text('data_stream').notNullable();
        t.text('kind').notNullable(); // transaction | span | error | log
        t.text('trace_id');
        t.text('span_id'); // the span the document describes or belongs to
        t.text('service').notNullable();
        t.text('level'); // lower-cased log.level, for filtering
        t.text('message');
        t.bigInteger('ts_us').notNullable();
        t.jsonb('doc').notNullable();
        t.index(['trace_id', 'ts_us']);
        t.index(['span_id']);
        t.index(['kind', 'service', 'ts_us']);
        t.index(['kind', 'level', 'ts_us']);
        t.index(['kind', 'ts_us']);
      });
    },
    async down(db: Knex): Promise<void> {
      await db.schema.dropTableIfExists('documents');
    },
  },
];
