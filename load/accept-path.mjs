#!/usr/bin/env node
// The router's accept path in isolation (no HTTP, no Kafka, no telemetry): calls acceptMessage()
// against a database of its own and prints, per accept, SQL round trips, wall time, router CPU and
// PostgreSQL backend CPU (from /proc/<pid>/stat of this database's backends). Run it on two commits
// to compare accept designs; see docs/performance.md.
//
//   node --import tsx load/accept-path.mjs [--requests 2000] [--concurrency 16] [--pool 10]
//        [--database-url postgres://postgres@127.0.0.1:5432/postgres]
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import postgres from '@ca/postgres';
import telemetry from '@ca/telemetry';
import contracts from '@ca/contracts';
import acceptModule from '../router-service/src/messages/accept-message.ts';
import migrations from '../router-service/src/db/migrations/index.ts';

// The workspace packages are CommonJS (through tsx): take their exports off the default import.
const { createDb, ensureDatabase, migrate } = postgres;
const { createLogger } = telemetry;
const { topicsFor } = contracts;
const { acceptMessage } = acceptModule;
const { routerMigrations } = migrations;

const { values: opt } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    pool: { type: 'string', default: '10' },
    'database-url': { type: 'string', default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log(readFileSync(new URL(import.meta.url)).toString().split('\n').filter((l) => l.startsWith('//')).join('\n'));
  process.exit(0);
}
const requests = Number(opt.requests);
const concurrency = Number(opt.concurrency);

// Every round trip goes through pg's Client#query (knex's BEGIN/COMMIT included).
let roundTrips = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function counted(...args) { roundTrips++; return query.apply(this, args); };

const url = new URL(opt['database-url']);
url.pathname = `/ca_accept_bench_${process.pid}`;
await ensureDatabase(url.toString());
const schema = 'router';
const db = createDb({ url: url.toString(), schema, pool: { min: 0, max: Number(opt.pool) } });
await migrate(db, schema, routerMigrations);
const deps = {
  db, clock: { now: () => new Date() }, logger: createLogger({ service: 'bench', level: 'error', silent: true }),
  topics: topicsFor(''), newId: randomUUID,
  settings: { traceViewUrl: 'http://traces.test', dedupWindowSeconds: 3600, idempotencyTtlSeconds: 86_400, rateLimitPerMinute: 30 },
};
const ticks = (pid) => { try { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); } catch { return 0; } };
const backendCpu = async () => {
  const { rows } = await db.raw('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  return new Map(rows.map((r) => [r.pid, ticks(r.pid)]));
};

const run = async (name, message) => {
  await Promise.all(Array.from({ length: Number(opt.pool) }, () => db.raw('SELECT 1'))); // warm the pool
  const before = await backendCpu();
  roundTrips = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const statuses = {};
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < requests) {
      const n = next++;
      const { m, key } = message(n);
      try {
        const r = await acceptMessage(deps, m, key, randomUUID().replaceAll('-', ''), TENANT);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      } catch (err) { statuses[err.status ?? 'error'] = (statuses[err.status ?? 'error'] ?? 0) + 1; if (!err.status) console.error(err); }
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
};

const runId = Date.now().toString(36);
const TENANT = '00000000-0000-4000-8000-000000000000'; // the default tenant the migration creates
const msg = (n, tag) => ({ channel: 'sms', to: `+1555${String(n).padStart(7, '0')}`, body: `${tag} ${runId} ${n}`, priority: 'medium' });
const rows = [];
rows.push(await run('no key', (n) => ({ m: msg(n, 'nokey'), key: undefined })));
rows.push(await run('Idempotency-Key', (n) => ({ m: msg(n, 'key'), key: `k-${runId}-${n}` })));
rows.push(await run('duplicate (409)', () => ({ m: msg(0, 'nokey'), key: undefined })));
console.log(`accept path, ${requests} accepts per row, concurrency ${concurrency}, pool ${opt.pool}, node ${process.version}, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
console.table(rows);
await db.destroy();
const admin = new pg.Client({ connectionString: opt['database-url'] });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS "${url.pathname.slice(1)}"`);
await admin.end();
