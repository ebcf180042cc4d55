#!/usr/bin/env node
// Candidate (b) of issue 7 item 3, as a measured prototype (not wired into the router): group
// commit. Concurrent accepts are collected (up to --group requests or --wait-ms) and stored in ONE
// transaction of multi-row statements (unnest arrays): content claims ON CONFLICT … RETURNING,
// recipient counters aggregated per bucket, messages, outbox rows. Each request still gets its own
// answer (202, or 409 for a duplicate, also for a duplicate inside the same group). Happy path plus
// duplicates only: the 429 correction (give back over-limit increments and their claims) would be
// two more statements in a group that has one. Prints the same columns as load/accept-path.mjs.
//
//   node --import tsx load/group-commit-prototype.mjs [--requests 1000] [--concurrency 16] [--group 32] [--wait-ms 2]
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import postgres from '@ca/postgres';
import migrations from '../router-service/src/db/migrations/index.ts';

const { createDb, ensureDatabase, migrate } = postgres;
const { routerMigrations } = migrations;
const { values: opt } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '16' },
    pool: { type: 'string', default: '10' },
    group: { type: 'string', default: '32' },
    'wait-ms': { type: 'string', default: '2' },
    'database-url': { type: 'string', default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const requests = Number(opt.requests);
const concurrency = Number(opt.concurrency);
const TENANT = '00000000-0000-4000-8000-000000000000';
const LIMIT = 30;

let roundTrips = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function counted(...args) { roundTrips++; return query.apply(this, args); };

const url = new URL(opt['database-url']);
url.pathname = `/ca_group_bench_${process.pid}`;
await ensureDatabase(url.toString());
const db = createDb({ url: url.toString(), schema: 'router', pool: { min: 0, max: Number(opt.pool) } });
await migrate(db, 'router', routerMigrations);
const sha = (s) => createHash('sha256').update(s).digest('hex');

// ---------- the batcher ----------
let pending = [];
let timer = null;
function submit(req) {
  return new Promise((resolve, reject) => {
    pending.push({ ...req, resolve, reject });
    if (pending.length >= Number(opt.group)) flushNow();
    else timer ??= setTimeout(flushNow, Number(opt['wait-ms']));
  });
}
function flushNow() {
  clearTimeout(timer); timer = null;
  const batch = pending; pending = [];
  if (batch.length) store(batch).catch((err) => { for (const r of batch) r.reject(err); });
}

async function store(batch) {
  const now = new Date();
  // A duplicate inside the group never reaches SQL (one row may be upserted once per statement).
  const first = new Map();
  const inGroupDup = [];
  for (const r of batch) (first.has(r.hash) ? inGroupDup : (first.set(r.hash, r), [])).push?.(r);
  const uniq = [...first.values()];
  const outcome = await db.transaction(async (trx) => {
    const claimed = await trx.raw(
      `INSERT INTO dedup (tenant_id, hash, message_id, expires_at)
       SELECT * FROM unnest(?::uuid[], ?::char(64)[], ?::uuid[], ?::timestamptz[])
       ON CONFLICT (tenant_id, hash) DO UPDATE SET message_id = excluded.message_id, expires_at = excluded.expires_at
       WHERE dedup.expires_at <= ? RETURNING message_id`,
      [uniq.map(() => TENANT), uniq.map((r) => r.hash), uniq.map((r) => r.id), uniq.map(() => new Date(now.getTime() + 3600_000)), now]);
    const won = new Set(claimed.rows.map((x) => x.message_id));
    const winners = uniq.filter((r) => won.has(r.id));
    const perBucket = new Map();
    for (const r of winners) perBucket.set(r.bucket, (perBucket.get(r.bucket) ?? 0) + 1);
    const ws = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
    const counts = await trx.raw(
      `INSERT INTO rate_limits (tenant_id, bucket, window_start, count)
       SELECT ?::uuid, b, ?::timestamptz, n FROM unnest(?::char(64)[], ?::int[]) AS u(b, n)
       ON CONFLICT (tenant_id, bucket, window_start) DO UPDATE SET count = rate_limits.count + excluded.count
       RETURNING bucket, count`,
      [TENANT, ws, [...perBucket.keys()], [...perBucket.values()]]);
    const finalCount = new Map(counts.rows.map((x) => [x.bucket.trim(), x.count]));
    const seen = new Map();
    const accepted = winners.filter((r) => {
      const k = (seen.get(r.bucket) ?? 0) + 1; seen.set(r.bucket, k);
      return finalCount.get(r.bucket) - perBucket.get(r.bucket) + k <= LIMIT;
    });
    if (accepted.length) {
      await trx.raw(
        `INSERT INTO messages (id, tenant_id, channel, recipient, body, priority, trace_id, created_at)
         SELECT u.id, ?::uuid, u.c, u.r, u.b, 'medium', u.t, ?::timestamptz FROM unnest(?::uuid[], ?::text[], ?::text[], ?::text[], ?::char(32)[]) AS u(id, c, r, b, t)`,
        [TENANT, now, accepted.map((r) => r.id), accepted.map((r) => r.m.channel), accepted.map((r) => r.m.to), accepted.map((r) => r.m.body), accepted.map((r) => r.traceId)]);
      await trx.raw(
        `INSERT INTO outbox (topic, key, value, headers, created_at)
         SELECT t, k, v, h, ?::timestamptz FROM unnest(?::text[], ?::text[], ?::text[], ?::jsonb[]) AS u(t, k, v, h)`,
        [now, accepted.map((r) => `send.${r.m.channel}`), accepted.map((r) => `${r.m.channel}:${r.m.to}`), accepted.map((r) => JSON.stringify({ id: r.id, ...r.m })),
          accepted.map((r) => JSON.stringify({ 'x-message-id': r.id }))]);
    }
    return { won, accepted: new Set(accepted.map((r) => r.id)) };
  });
  for (const r of uniq) r.resolve(outcome.accepted.has(r.id) ? 202 : outcome.won.has(r.id) ? 429 : 409);
  for (const r of inGroupDup) r.resolve(409);
}

// ---------- the same load as load/accept-path.mjs ----------
const ticks = (pid) => { try { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); } catch { return 0; } };
const backendCpu = async () => new Map((await db.raw('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).rows.map((r) => [r.pid, ticks(r.pid)]));
const runId = Date.now().toString(36);
async function run(name, message) {
  await Promise.all(Array.from({ length: Number(opt.pool) }, () => db.raw('SELECT 1')));
  const before = await backendCpu();
  roundTrips = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const statuses = {};
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < requests) {
      const m = message(next++);
      const status = await submit({ id: randomUUID(), m, hash: sha(JSON.stringify([m.channel, m.to, null, m.body])), bucket: sha(`${m.channel}:${m.to}`), traceId: randomUUID().replaceAll('-', '') });
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  }));
  const wall = performance.now() - t0;
  const trips = roundTrips;
  const cpu = process.cpuUsage(cpu0);
  const after = await backendCpu();
  let pgTicks = 0;
  for (const [pid, t] of after) pgTicks += t - (before.get(pid) ?? 0);
  return {
    path: name, accepts: requests, statuses: JSON.stringify(statuses),
    'round trips / accept': +(trips / requests).toFixed(2),
    'accepts/s': +(requests / (wall / 1000)).toFixed(0),
    'router CPU ms / accept': +((cpu.user + cpu.system) / 1000 / requests).toFixed(3),
    'PostgreSQL CPU ms / accept': +((pgTicks * 10) / requests).toFixed(3),
  };
}
const rows = [
  await run('group commit: no key', (n) => ({ channel: 'sms', to: `+1555${String(n).padStart(7, '0')}`, body: `g ${runId} ${n}` })),
  await run('group commit: duplicate (409)', () => ({ channel: 'sms', to: '+15550000000', body: `g ${runId} 0` })),
];
console.log(`group commit prototype, ${requests} accepts per row, concurrency ${concurrency}, group ≤ ${opt.group} / ${opt['wait-ms']} ms, pool ${opt.pool}, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
console.table(rows);
await db.destroy();
const admin = new pg.Client({ connectionString: opt['database-url'] });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS "${url.pathname.slice(1)}"`);
await admin.end();
