import knexFactory, { type Knex } from 'knex';
import { Client } from 'pg';

export type Db = Knex;

export interface DbOptions {
  url: string;
  /** PostgreSQL schema the service owns; its tables and its migration table live there. */
  schema: string;
  pool?: { min: number; max: number };
}

/** Creates the database named in `url` if it does not exist (connects to `postgres` to do so). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) return;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      } catch (err) {
        // Another process created it between our check and our create: fine.
        if ((err as { code?: string }).code !== '42P04' && (err as { code?: string }).code !== '23505') throw err;
      }
    }
  } finally {
    await client.end();
  }
}

export function createDb(opts: DbOptions): Db {
  return knexFactory({
    client: 'pg',
    connection: opts.url,
    searchPath: [opts.schema, 'public'],
    pool: opts.pool ?? { min: 0, max: 10 },
  });
}

/**
 * Applies the service's versioned migrations inside its own schema. Safe to run from several
 * processes at once: knex takes a lock row in the migrations lock table.
 */
export async function migrate(db: Db, schema: string, migrations: Knex.MigrationSource<unknown>): Promise<void> {
  await db.raw('CREATE SCHEMA IF NOT EXISTS ??', [schema]);
  await db.migrate.latest({ schemaName: schema, tableName: 'knex_migrations', migrationSource: migrations });
}

/** A migration source from an ordered list, so migrations are plain TypeScript modules. */
export function listMigrations(list: ReadonlyArray<{ name: string; up(db: Knex): Promise<void>; down(db: Knex): Promise<void> }>): Knex.MigrationSource<unknown> {
  return {
    getMigrations: async () => [...list],
    getMigrationName: (m) => (m as { name: string }).name,
    getMigration: async (m) => m as Knex.Migration,
  };
}
