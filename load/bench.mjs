#!/usr/bin/env node
// Issue 7's Targets in one run (docs/performance.md). Starts the system exactly as `npm start` does
// (scripts/start-all.ts) on free ports with a database of its own, twice: tracing exported, then
// export off. Prints every figure the Targets list asks for, as ratios to a bare express endpoint
// measured in the same run, and a markdown block ready to paste.
//
//   node load/bench.mjs                       full set (~5 min): ceiling, export on, export off
//   node load/bench.mjs --quick               shorter phases (smoke-test the tooling, ~2 min)
//   node load/bench.mjs --help
//
// Phases, export on: max accept rate (--max-seconds at --connections), sustained run at 80 % of it
// (--sustain-seconds; delivered/s counted in PostgreSQL; CPU per delivered message per process
// from /proc/<pid>/stat), p99 accept latency at 50 % of it, a burst of --burst messages and the time
// until every one of them is delivered. Export off (OTEL_EXPORTER_OTLP_ENDPOINT=): max accept rate.
// With --metrics-off, a third system with OTEL_METRICS_EXPORTER=none (tracing exported as in "on"):
// max accept rate and the sustained phase at the same rate, for the metrics on/off ratios. Systems
// with metrics on are scraped (GET /metrics on all three services) every 15 s, as Prometheus would.
// Loopback only. The per-API-key limit is switched off (API_RATE_LIMIT_PER_SECOND=0): this measures
// capacity, not a merchant's quota. Every message has its own recipient and text (no 409/429).
import { execSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBareExpress } from './bare-express.mjs';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
const { Client } = require('pg');

const { values: opt } = parseArgs({
  options: {
    help: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    baseline: { type: 'boolean', default: true }, // accepted for symmetry with run.mjs; always measured
    'skip-export-off': { type: 'boolean', default: false },
    'metrics-off': { type: 'boolean', default: false },
    'skip-null-receiver': { type: 'boolean', default: false },
    connections: { type: 'string', default: '32' },
    'max-seconds': { type: 'string' },
    'sustain-seconds': { type: 'string' },
    'latency-seconds': { type: 'string' },
    burst: { type: 'string' },
    'drain-timeout': { type: 'string', default: '120' },
    'burst-timeout': { type: 'string', default: '60' },
    'warm-up-seconds': { type: 'string' },
    'admin-url': { type: 'string', default: process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    echo: { type: 'boolean', default: false },
    root: { type: 'string' },
    profile: { type: 'string' },
  },
});
// The checkout whose system is started: this one by default; another (e.g. a worktree of main) to
// measure "before" with the same script.
const ROOT = opt.root ?? join(fileURLToPath(import.meta.url), '../..');
if (opt.help) {
  console.log(`${readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n')}

Options (defaults in brackets; --quick halves the phases):
  --connections N        autocannon connections for the max-rate phases [32]
  --warm-up-seconds S    light load (4 connections) after each start, not measured [10; quick 5]
  --max-seconds S        max accept rate phase, each system [15; quick 8]
  --sustain-seconds S    sustained phase at 80 % of max [60; quick 20]
  --latency-seconds S    p99 phase at 50 % of max [15; quick 8]
  --burst N              burst size for the drain measurement [10000; quick 2000]
  --burst-timeout S      stop sending the burst after S seconds (a slow box): the drain is then
                         measured for what was accepted, and the table says how many [60]
  --drain-timeout S      give up waiting for the burst's drain after S seconds [120]
  --skip-export-off      do not start the export-off system (no on/off ratio)
  --skip-null-receiver   do not start the third system, which exports to a receiver that discards
                         (splits the on/off gap: exporting vs storing the telemetry on the same cores)
  --metrics-off          also start a system with metrics off (OTEL_METRICS_EXPORTER=none): max rate
                         and sustained CPU, for the metrics on/off ratios (docs/performance.md)
  --admin-url URL        PostgreSQL admin URL (creates/drops the run's database) [postgres://postgres@127.0.0.1:5432/postgres]
  --root DIR             start the system of another checkout (e.g. \`git worktree add /tmp/main main\`) [this one]
  --profile DIR          CPU-profile each service during the sustained phase (load/cpu-profile-hook.mjs), written to DIR/export_on/; summarise with node load/profile-summary.mjs DIR/export_on
  --echo                 show the services' output`);
  process.exit(0);
}
const quick = opt.quick;
const num = (name, normal, short) => Number(opt[name] ?? (quick ? short : normal));
const cfg = {
  connections: Number(opt.connections),
  maxSeconds: num('max-seconds', 15, 8),
  sustainSeconds: num('sustain-seconds', 60, 20),
  latencySeconds: num('latency-seconds', 15, 8),
  burst: num('burst', 10_000, 2000),
  drainTimeout: Number(opt['drain-timeout']),
  burstTimeout: Number(opt['burst-timeout']),
  warmUpSeconds: num('warm-up-seconds', 10, 5),
};
const log = (...a) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

// ---------- messages: unique recipient and text per request ----------
const runId = Date.now().toString(36);
let seq = 0;
const CHANNELS = ['email', 'sms', 'whatsapp', 'push'];
function uniqueMessage() {
  const n = ++seq;
  const channel = CHANNELS[n % CHANNELS.length];
  const text = `bench ${runId} #${n}`;
  if (channel === 'email') return { channel, to: `bench-${runId}-${n}@example.com`, subject: `Bench ${runId}`, body: text };
  if (channel === 'push') return { channel, to: `bench-token-${runId}-${String(n).padStart(24, '0')}`, body: text };
  let tail = n % 10_000_000;
  if ([9991, 9992, 9993].includes(tail % 10_000)) tail += 10; // not a simulated forced-failure number
  return { channel, to: `+1555${String(tail).padStart(7, '0')}`, body: text };
}

// ---------- one autocannon phase with our own latency list ----------
async function fire(url, apiKey, { stopAfter, ...limits }) {
  const latencies = [];
  let accepted = 0;
  const instance = autocannon({
    url: `${url}/v1/messages`, connections: cfg.connections, ...limits,
    requests: [{
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
      setupRequest: (req) => ({ ...req, body: JSON.stringify(uniqueMessage()) }),
      onResponse: (status) => { if (status === 202) accepted++; },
    }],
  });
  instance.on('response', (_c, _s, _b, ms) => latencies.push(ms));
  const bound = stopAfter ? setTimeout(() => instance.stop(), stopAfter * 1000) : null;
  const r = await instance;
  clearTimeout(bound);
  latencies.sort((a, b) => a - b);
  const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)] : NaN);
  const statuses = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([c, s]) => [c, s.count]));
  return { seconds: r.duration, accepted, perSecond: accepted / r.duration, p50: pct(0.5), p99: pct(0.99), errors: r.errors + r.timeouts, statuses };
}

// ---------- processes and their CPU (/proc/<pid>/stat utime+stime, clock ticks of 10 ms) ----------
const TICK_MS = 10;
function ticks(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch { return null; }
}
function descendants(root) {
  const parent = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try { parent.set(Number(d), Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1])); } catch { /* gone */ }
  }
  const out = [];
  const walk = (p) => { for (const [c, pp] of parent) if (pp === p) { out.push(c); walk(c); } };
  walk(root);
  return out;
}
function roleOf(pid) {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmd.includes('kcat')) return 'broker (kcat)';
    if (!cmd.includes('src/main.ts')) return null;
    return basename(readlinkSync(`/proc/${pid}/cwd`));
  } catch { return null; }
}

/** Samples CPU of the system's processes and of its PostgreSQL backends once a second. */
function cpuSampler(system) {
  const seen = new Map(); // pid -> { role, first, last }
  let timer = null;
  const sample = async () => {
    const pids = [...system.roles].map(([pid, role]) => [pid, role]);
    const { rows } = await system.pg.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    for (const r of rows) pids.push([r.pid, 'PostgreSQL backends']);
    for (const [pid, role] of pids) {
      const t = ticks(pid);
      if (t === null) continue;
      const s = seen.get(pid);
      if (s) s.last = t;
      else seen.set(pid, { role, first: timer === null ? t : 0, last: t }); // born during the window: all its CPU counts
    }
  };
  return {
    async start() { await sample(); timer = setInterval(() => { void sample().catch(() => {}); }, 1000); },
    async stop() {
      clearInterval(timer);
      await sample();
      const byRole = {};
      for (const s of seen.values()) byRole[s.role] = (byRole[s.role] ?? 0) + (s.last - s.first) * TICK_MS;
      return byRole;
    },
  };
}

// ---------- the system, as npm start runs it ----------
async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}
const running = new Set();
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    log(`${sig}: stopping the system(s) started by this run`);
    void Promise.allSettled([...running].map((s) => s.stop())).then(() => process.exit(130));
  });
}
async function startSystem(name, env) {
  const database = `ca_bench_${name}_${runId}`;
  const adminUrl = new URL(opt['admin-url']);
  const dbUrl = new URL(opt['admin-url']);
  dbUrl.pathname = `/${database}`;
  const admin = new Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await admin.end();
  const ports = { router: await freePort(), delivery: await freePort(), logging: await freePort() };
  const apiKey = `ca_bench_${randomBytes(24).toString('base64url')}`;
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start-all.ts'], {
    cwd: ROOT,
    env: {
      ...process.env, ROUTER_PORT: String(ports.router), DELIVERY_PORT: String(ports.delivery), LOGGING_PORT: String(ports.logging),
      DATABASE_URL: dbUrl.toString(), BOOTSTRAP_API_KEY: apiKey, API_RATE_LIMIT_PER_SECOND: '0',
      ...(opt.profile ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${join(fileURLToPath(import.meta.url), '../cpu-profile-hook.mjs')}`.trim(), CPU_PROFILE_DIR: resolve(opt.profile, name) } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (c) => { output = (output + c.toString()).slice(-20_000); if (opt.echo) process.stderr.write(c); };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  // stdout must keep draining even when not echoed, or the services block on a full pipe.
  // A busy box (other builds, tests) can take minutes to transpile and start four processes.
  const deadline = Date.now() + 300_000;
  while (!/all services healthy/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`system ${name} did not start:\n${output.slice(-3000)}`);
    }
    await sleep(200);
  }
  const pg = new Client({ connectionString: dbUrl.toString() });
  await pg.connect();
  const roles = new Map();
  for (const pid of descendants(child.pid)) { const role = roleOf(pid); if (role) roles.set(pid, role); }
  log(`system ${name} healthy after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${[...roles.values()].join(', ')}`);
  await sleep(3000);
  // Metrics on: scraped like Prometheus would (every 15 s, all three services); the cost is in the run.
  let scrapes = 0;
  const scraper = env.OTEL_METRICS_EXPORTER === 'none' ? null : setInterval(() => {
    for (const port of Object.values(ports)) {
      fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).then(() => { scrapes++; }, () => {});
    }
  }, 15_000);
  const system = {
    name, url: `http://127.0.0.1:${ports.router}`, apiKey, pg, roles,
    scrapes: () => scrapes,
    async counts() {
      const { rows: [r] } = await pg.query(`SELECT (SELECT count(*) FROM router.messages)::int AS accepted,
        (SELECT count(*) FROM delivery.messages WHERE status IN ('sent', 'delivered', 'bounced', 'undelivered', 'failed', 'dead_lettered'))::int AS delivered`);
      return r;
    },
    async stop() {
      if (scraper) clearInterval(scraper);
      await pg.end().catch(() => {});
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((done) => { child.once('exit', done); setTimeout(done, 30_000).unref(); });
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      const c = new Client({ connectionString: adminUrl.toString() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).finally(() => c.end());
      running.delete(system);
    },
  };
  running.add(system);
  return system;
}

/** An OTLP/HTTP receiver that reads each export request and answers success, storing nothing. */
async function nullReceiver() {
  const { createServer: createHttpServer } = await import('node:http');
  let n = 0;
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => { n++; res.writeHead(200, { 'content-type': 'application/json' }).end('{}'); });
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests: () => n,
    close: () => new Promise((done) => { server.closeAllConnections(); server.close(done); }),
  };
}

/** --profile: the first call starts each service's sampling profiler (load/cpu-profile-hook.mjs), the second writes it. */
function toggleProfiles(system) {
  if (!opt.profile) return;
  // The services only: SIGUSR2's default action would end the broker (kcat).
  for (const [pid, role] of system.roles) if (role.endsWith('-service')) { try { process.kill(pid, 'SIGUSR2'); } catch { /* gone */ } }
}

/** A freshly started process is slow (tsx transpiling, JIT, pools): load it before measuring. */
async function warmUp(system) {
  log(`${system.name}: warm-up ${cfg.warmUpSeconds} s`);
  await fire(system.url, system.apiKey, { duration: cfg.warmUpSeconds, connections: 4 });
  await drain(system, 30);
}

/** Waits until everything accepted so far is in a terminal state; seconds waited, or null on timeout. */
async function drain(system, timeoutSeconds, target) {
  const t0 = Date.now();
  for (;;) {
    const c = await system.counts();
    if (c.delivered >= (target ?? c.accepted)) return (Date.now() - t0) / 1000;
    if (Date.now() - t0 > timeoutSeconds * 1000) return null;
    await sleep(250);
  }
}

// ---------- the run ----------
const results = { load: [], notes: [] };
const sampleLoad = () => results.load.push(loadavg()[0].toFixed(1));
async function main() {
  sampleLoad();
  log('bare express ceiling');
  const bare = await startBareExpress(0);
  try { results.bare = await fire(bare.url, null, { duration: cfg.maxSeconds }); } finally { await bare.close(); }
  log(`bare express: ${results.bare.perSecond.toFixed(0)} req/s`);

  const on = await startSystem('export_on', {});
  try {
    await warmUp(on);
    sampleLoad();
    log('export on: max accept rate');
    results.max = await fire(on.url, on.apiKey, { duration: cfg.maxSeconds });
    log(`max ${results.max.perSecond.toFixed(1)}/s ${JSON.stringify(results.max.statuses)}`);
    results.afterMaxDrain = await drain(on, 30);

    const sustainRate = Math.max(1, Math.round(results.max.perSecond * 0.8));
    log(`export on: ${cfg.sustainSeconds} s at ${sustainRate}/s (80 %)`);
    const c0 = await on.counts();
    const sampler = cpuSampler(on);
    await sampler.start();
    const gen0 = process.cpuUsage();
    const t0 = Date.now();
    toggleProfiles(on);
    results.sustain = await fire(on.url, on.apiKey, { duration: cfg.sustainSeconds, overallRate: sustainRate });
    toggleProfiles(on);
    const window = (Date.now() - t0) / 1000;
    const cpu = await sampler.stop();
    const gen = process.cpuUsage(gen0);
    const c1 = await on.counts();
    Object.assign(results.sustain, { rate: sustainRate, window, delivered: c1.delivered - c0.delivered, acceptedRows: c1.accepted - c0.accepted, backlog: c1.accepted - c1.delivered, cpu, generatorMs: (gen.user + gen.system) / 1000 });
    log(`sustain: accepted ${results.sustain.perSecond.toFixed(1)}/s, delivered ${(results.sustain.delivered / window).toFixed(1)}/s, backlog ${results.sustain.backlog}`);
    await drain(on, 30);

    const halfRate = Math.max(1, Math.round(results.max.perSecond * 0.5));
    sampleLoad();
    log(`export on: p99 at ${halfRate}/s (50 %)`);
    results.half = await fire(on.url, on.apiKey, { duration: cfg.latencySeconds, overallRate: halfRate });
    results.half.rate = halfRate;
    await drain(on, 30);

    log(`export on: burst of ${cfg.burst}`);
    const b0 = await on.counts();
    const tb = Date.now();
    results.burst = await fire(on.url, on.apiKey, { amount: cfg.burst, stopAfter: cfg.burstTimeout });
    const acceptSeconds = (Date.now() - tb) / 1000;
    const b1 = await on.counts();
    const afterBurst = await drain(on, cfg.drainTimeout, b0.delivered + (b1.accepted - b0.accepted));
    Object.assign(results.burst, { acceptSeconds, drainAfterBurst: afterBurst, total: afterBurst === null ? null : acceptSeconds + afterBurst });
    log(`burst: accepted in ${acceptSeconds.toFixed(1)} s, drained ${afterBurst === null ? 'NOT within timeout' : `${afterBurst.toFixed(1)} s later`}`);
  } finally {
    await on.stop();
  }

  if (!opt['skip-export-off']) {
    const off = await startSystem('export_off', { OTEL_EXPORTER_OTLP_ENDPOINT: '' });
    try {
      await warmUp(off);
      sampleLoad();
      log('export off: max accept rate');
      results.maxOff = await fire(off.url, off.apiKey, { duration: cfg.maxSeconds });
      log(`max (export off) ${results.maxOff.perSecond.toFixed(1)}/s`);
    } finally {
      await off.stop();
    }
  }
  if (!opt['skip-null-receiver']) {
    // Spans and logs are exported exactly as with export on, but to a receiver in this process that
    // reads each request and answers an empty OTLP success: what exporting costs the services,
    // without logging-service and PostgreSQL storing it on the same two cores.
    const sink = await nullReceiver();
    const nul = await startSystem('export_null', { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url });
    try {
      await warmUp(nul);
      sampleLoad();
      log('export to a null receiver: max accept rate');
      results.maxNull = await fire(nul.url, nul.apiKey, { duration: cfg.maxSeconds });
      results.maxNull.exports = sink.requests();
      log(`max (null receiver) ${results.maxNull.perSecond.toFixed(1)}/s, ${sink.requests()} export requests received`);
    } finally {
      await nul.stop();
      await sink.close();
    }
  }
  if (opt['metrics-off']) {
    const moff = await startSystem('metrics_off', { OTEL_METRICS_EXPORTER: 'none' });
    try {
      await warmUp(moff);
      sampleLoad();
      log('metrics off: max accept rate');
      results.maxMetricsOff = await fire(moff.url, moff.apiKey, { duration: cfg.maxSeconds });
      log(`max (metrics off) ${results.maxMetricsOff.perSecond.toFixed(1)}/s`);
      await drain(moff, 30);
      log(`metrics off: ${cfg.sustainSeconds} s at ${results.sustain.rate}/s (the rate of the metrics-on run)`);
      const c0 = await moff.counts();
      const sampler = cpuSampler(moff);
      await sampler.start();
      const t0 = Date.now();
      results.sustainMetricsOff = await fire(moff.url, moff.apiKey, { duration: cfg.sustainSeconds, overallRate: results.sustain.rate });
      const window = (Date.now() - t0) / 1000;
      const cpu = await sampler.stop();
      const c1 = await moff.counts();
      Object.assign(results.sustainMetricsOff, { window, delivered: c1.delivered - c0.delivered, cpu });
    } finally {
      await moff.stop();
    }
  }
  report();
}

function report() {
  const r = results;
  const bare = r.bare.perSecond;
  const f = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d));
  const ratio = (x) => `${f(x)} (${f(x / bare, 3)} × bare)`;
  const delivered = r.sustain.delivered / r.sustain.window;
  const check = (ok) => (ok ? 'met' : 'NOT met');
  const lines = [];
  lines.push(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} · node ${process.version} · commit ${gitHead()} · load average (1 min) during phases: ${r.load.join(' / ')}`);
  lines.push(`Command: \`node load/bench.mjs${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}\` (starts \`scripts/start-all.ts\` = \`npm start\` itself, once per configuration)`);
  lines.push('');
  lines.push('| figure | measured | target | |');
  lines.push('| --- | --- | --- | --- |');
  lines.push(`| bare express 5 ceiling (same run, ${cfg.connections} connections) | ${f(bare, 0)} req/s | — | |`);
  lines.push(`| max accepted/s, tracing exported | ${ratio(r.max.perSecond)} | ≥ 0.05 × bare | ${check(r.max.perSecond >= 0.05 * bare)} |`);
  if (r.maxOff) {
    lines.push(`| max accepted/s, export off | ${ratio(r.maxOff.perSecond)} | ≥ 0.1 × bare | ${check(r.maxOff.perSecond >= 0.1 * bare)} |`);
    lines.push(`| tracing on/off | ${f(r.max.perSecond / r.maxOff.perSecond, 2)} | ≥ 0.8 | ${check(r.max.perSecond / r.maxOff.perSecond >= 0.8)} |`);
    if (r.maxNull) lines.push(`| (split) max accepted/s exporting to a null receiver · ÷ export off | ${ratio(r.maxNull.perSecond)} · ${f(r.maxNull.perSecond / r.maxOff.perSecond, 2)} | explains on/off | |`);
  }
  if (r.maxMetricsOff) {
    const cpuOf = (x) => Object.values(x.cpu).reduce((a, b) => a + b, 0) / x.delivered;
    lines.push(`| max accepted/s, metrics off (tracing exported) | ${ratio(r.maxMetricsOff.perSecond)} | — | |`);
    lines.push(`| metrics on/off, max accepted/s | ${f(r.max.perSecond / r.maxMetricsOff.perSecond, 2)} | measured (1.0 = no cost) | |`);
    lines.push(`| metrics on/off, CPU per delivered message at ${r.sustain.rate}/s | ${f(cpuOf(r.sustain), 2)} / ${f(cpuOf(r.sustainMetricsOff), 2)} ms = ${f(cpuOf(r.sustain) / cpuOf(r.sustainMetricsOff), 2)} | measured (1.0 = no cost) | |`);
    lines.push(`| metrics on/off, p50 · p99 accept latency at ${r.sustain.rate}/s | ${f(r.sustain.p50)} · ${f(r.sustain.p99)} ms / ${f(r.sustainMetricsOff.p50)} · ${f(r.sustainMetricsOff.p99)} ms | measured | |`);
  }
  lines.push(`| sustained ${f(r.sustain.window, 0)} s at ${r.sustain.rate}/s (80 %): accepted/s · delivered/s | ${f(r.sustain.perSecond)} · ${f(delivered)} (${f(delivered / r.sustain.perSecond, 2)} ×), backlog at end ${r.sustain.backlog} | delivered ≥ 0.9 × accepted | ${check(delivered >= 0.9 * r.sustain.perSecond)} |`);
  lines.push(`| burst of ${cfg.burst}${r.burst.accepted < cfg.burst ? ` (stopped after ${cfg.burstTimeout} s: ${r.burst.accepted} accepted)` : ''}: accepted in · drained after the burst · total | ${f(r.burst.acceptSeconds)} s · ${r.burst.drainAfterBurst === null ? `> ${cfg.drainTimeout} s` : `${f(r.burst.drainAfterBurst)} s`} · ${r.burst.total === null ? 'n/a' : `${f(r.burst.total)} s`} (${r.burst.accepted} accepted) | measured | |`);
  lines.push(`| p99 accept latency at ${r.half.rate}/s (50 %) | ${f(r.half.p99)} ms (p50 ${f(r.half.p50)} ms) | ≤ 50 ms | ${check(r.half.p99 <= 50)} |`);
  const cpuTotal = Object.values(r.sustain.cpu).reduce((a, b) => a + b, 0);
  lines.push(`| CPU per delivered message, all processes | ${f(cpuTotal / r.sustain.delivered, 2)} ms | ≤ 5 ms | ${check(cpuTotal / r.sustain.delivered <= 5)} |`);
  lines.push('');
  lines.push(`CPU during the sustained phase (${f(r.sustain.window, 0)} s, ${r.sustain.delivered} delivered, ${r.sustain.acceptedRows} accepted), from /proc/<pid>/stat:`);
  lines.push('');
  lines.push('| process | CPU s | ms per delivered message | ms per accepted message |');
  lines.push('| --- | --- | --- | --- |');
  const order = ['router-service', 'delivery-service', 'logging-service', 'PostgreSQL backends', 'broker (kcat)'];
  for (const role of [...order, ...Object.keys(r.sustain.cpu).filter((k) => !order.includes(k))]) {
    const ms = r.sustain.cpu[role];
    if (ms === undefined) continue;
    lines.push(`| ${role} | ${f(ms / 1000, 1)} | ${f(ms / r.sustain.delivered, 2)} | ${f(ms / r.sustain.acceptedRows, 2)} |`);
  }
  lines.push(`| **total** | ${f(cpuTotal / 1000, 1)} | **${f(cpuTotal / r.sustain.delivered, 2)}** | ${f(cpuTotal / r.sustain.acceptedRows, 2)} |`);
  lines.push(`| (load generator, not counted) | ${f(r.sustain.generatorMs / 1000, 1)} | ${f(r.sustain.generatorMs / r.sustain.delivered, 2)} | |`);
  lines.push('');
  const errs = [r.max, r.sustain, r.half, r.burst, r.maxOff, r.maxNull].filter(Boolean).map((x) => `${JSON.stringify(x.statuses)}${x.errors ? ` +${x.errors} errors` : ''}`);
  lines.push(`Responses per phase (max, sustained, p99, burst${r.maxOff ? ', max export off' : ''}${r.maxNull ? ', max null receiver' : ''}): ${errs.join(' · ')}. PostgreSQL's shared background processes (WAL writer, checkpointer) are not counted: other databases use them too.`);
  console.log(`\n\`\`\`markdown\n${lines.join('\n')}\n\`\`\``);
}

function gitHead() {
  try {
    return execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
  } catch { return 'unknown'; }
}

main().catch((err) => { console.error(err); process.exit(1); });
