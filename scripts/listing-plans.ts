/**
 * GET /v1/messages at 1 M rows: fills a scratch schema with 1,000,000 messages (router migrations,
 * so the real indexes), then prints EXPLAIN (ANALYZE, BUFFERS) and the execution time of the exact
 * page query listQuery() builds, for the main filter combinations, first page and a deep page.
 *
 *   node --import tsx scripts/listing-plans.ts [rows=1000000] [--keep] [--reuse]
 *
 * Uses DATABASE_URL (default the local comm_aggregator_perf database); drops its schema after unless
 * --keep; --reuse explains against the rows a --keep run left (filling takes ~2 min on a laptop).
 * Figures are recorded in docs/performance.md ("Message listing at 1 M rows").
 */
import { createDb, ensureDatabase, migrate } from '@ca/postgres';
import { routerMigrations } from '../router-service/src/db/migrations';
import { listQuery, decodeCursor, encodeCursor, type MessageQuery, type Keyset } from '../router-service/src/messages/message-query';

const ROWS = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const KEEP = process.argv.includes('--keep');
const REUSE = process.argv.includes('--reuse');
const URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/comm_aggregator_perf';
const SCHEMA = 'listing_plans';
const BIG = '11111111-1111-4111-8111-111111111111'; // 80 % of the rows
const SMALL = '22222222-2222-4222-8222-222222222222';
const NOW = new Date('2030-02-01T00:00:00Z');

async function fill(db: ReturnType<typeof createDb>): Promise<void> {
  await db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [SCHEMA]);
  await migrate(db, SCHEMA, routerMigrations);
  await db('tenants').insert([{ id: BIG, name: 'big', created_at: NOW }, { id: SMALL, name: 'small', created_at: NOW }]);

  let t = Date.now();
  // 30 days of traffic, newest last; status mix of a healthy system; a correlation id for every
  // 10th, a user for half, one of 20 templates for a fifth; 1 % scheduled ahead.
  await db.raw(`
    INSERT INTO messages (id, tenant_id, channel, recipient, subject, body, priority, correlation_id, trace_id, created_at,
                          user_id, template_id, send_at, status, status_version, delivery_attempts)
    SELECT gen_random_uuid(),
           CASE WHEN g % 5 = 0 THEN CAST(? AS uuid) ELSE CAST(? AS uuid) END,
           (ARRAY['email','sms','whatsapp','push'])[1 + g % 4],
           'user' || g || '@example.com', NULL, 'body ' || g, 'medium',
           CASE WHEN g % 10 = 0 THEN 'order-' || (g / 10) END,
           md5(g::text),
           CAST(? AS timestamptz) - (interval '30 days') * (1 - g::float8 / ?),
           CASE WHEN g % 2 = 0 THEN 'user-' || (g % 50000) END,
           CASE WHEN g % 5 = 1 THEN 'template-' || (g % 20) END,
           CASE WHEN g % 100 = 7 THEN CAST(? AS timestamptz) + interval '1 day' END,
           CASE WHEN g % 100 = 7 THEN 'pending'
                WHEN g % 100 < 85 THEN 'sent' WHEN g % 100 < 90 THEN 'pending' WHEN g % 100 < 96 THEN 'retrying'
                WHEN g % 100 < 99 THEN 'failed' ELSE 'dead_lettered' END,
           1, 1
      FROM generate_series(1, ?) AS g`, [SMALL, BIG, NOW, ROWS, NOW, ROWS]);
  console.log(`inserted ${ROWS} rows in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  t = Date.now();
  await db.raw('VACUUM ANALYZE messages');
  console.log(`vacuum analyze ${((Date.now() - t) / 1000).toFixed(1)} s`);
}

async function main(): Promise<void> {
  await ensureDatabase(URL);
  const db = createDb({ url: URL, schema: SCHEMA, pool: { min: 1, max: 2 } });
  if (!REUSE) await fill(db);
  const size = await db.raw<{ rows: Array<{ table: string; indexes: string }> }>(
    `SELECT pg_size_pretty(pg_relation_size('messages')) AS table, pg_size_pretty(pg_indexes_size('messages')) AS indexes`);
  console.log(`table ${size.rows[0]?.table}, indexes ${size.rows[0]?.indexes}`);

  // A cursor half-way down the big tenant's listing (page ~20,000 at limit 20): keyset depth must not matter.
  const mid = await db('messages').where({ tenant_id: BIG }).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
    .offset(400_000).first(db.raw(`to_json(created_at) #>> '{}' AS c`), 'id') as { c: string; id: string };
  const deep: Keyset = decodeCursor(encodeCursor({ createdAt: mid.c, id: mid.id }))!;

  const cases: Array<[string, Partial<MessageQuery> & { after?: Keyset }]> = [
    ['no filter, first page', {}],
    ['no filter, deep page (cursor at row 400,000)', { after: deep }],
    ['status=sent', { status: 'sent' }],
    ['status=failed (3 %)', { status: 'failed' }],
    ['status=failed, deep page', { status: 'failed', after: deep }],
    ['status=scheduled', { status: 'scheduled' }],
    ['channel=sms', { channel: 'sms' }],
    ['status=dead_lettered & channel=sms', { status: 'dead_lettered', channel: 'sms' }],
    ['correlationId=order-4242', { correlationId: 'order-4242' }],
    ['userId=user-4242', { userId: 'user-4242' }],
    ['templateId=template-11 & status=sent', { templateId: 'template-11', status: 'sent' }],
    ['createdAfter/createdBefore one day, 10 days ago', { createdAfter: new Date(NOW.getTime() - 11 * 86_400_000), createdBefore: new Date(NOW.getTime() - 10 * 86_400_000) }],
    ['small tenant, status=retrying', { status: 'retrying', tenant: SMALL } as never],
  ];
  for (const [name, filters] of cases) {
    const tenant = (filters as { tenant?: string }).tenant ?? BIG;
    const q = { limit: 20, ...filters } as MessageQuery & { after?: Keyset };
    const { sql, bindings } = listQuery(db, tenant, q, NOW).toSQL();
    await db.raw(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, bindings); // warm
    const plan = await db.raw<{ rows: Array<{ 'QUERY PLAN': string }> }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, bindings);
    const lines = plan.rows.map((r) => r['QUERY PLAN']);
    const exec = lines.find((l) => l.startsWith('Execution Time'));
    console.log(`\n### ${name} — ${exec}\n${lines.join('\n')}`);
  }
  if (!KEEP) await db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [SCHEMA]);
  await db.destroy();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
