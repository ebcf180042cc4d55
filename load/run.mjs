#!/usr/bin/env node
// Load harness (autocannon's Node API) for router-service, loopback only, bounded in time and count.
// The same scenarios as load/k6/*.js, for machines without k6. See docs/performance.md.
//
//   node load/run.mjs                               all scenarios against http://127.0.0.1:3000
//   node load/run.mjs --scenario steady --duration 20 --connections 64
//   node load/run.mjs --scenario steady --rate 500  fixed arrival rate (req/s) instead of max
//   node load/run.mjs --baseline                    also measure load/bare-express.mjs (the ceiling)
//   --api-key KEY (or API_KEY / BOOTSTRAP_API_KEY)  the Bearer key router-service requires
// For issue 7's Targets in one run (it starts the system itself), use load/bench.mjs.
//
// Prints per scenario: accepted req/s, latency p50/p95/p99, errors and non-2xx by status, and for
// steady/spike the end-to-end rate: accepted messages / time until a sample of them reached `sent`.
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBareExpress } from './bare-express.mjs';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');

const { values: opt } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'all' },
    'base-url': { type: 'string', default: process.env.BASE_URL ?? 'http://127.0.0.1:3000' },
    duration: { type: 'string', default: '10' }, // seconds, per timed scenario (max 120)
    connections: { type: 'string', default: '32' },
    rate: { type: 'string', default: '0' }, // req/s for steady; 0 = as fast as it accepts
    sample: { type: 'string', default: '100' }, // accepted ids polled until `sent`
    'settle-timeout': { type: 'string', default: '120' }, // seconds to wait for the sample
    baseline: { type: 'boolean', default: false },
    // router-service wants a Bearer API key (BOOTSTRAP_API_KEY of the running system).
    'api-key': { type: 'string', default: process.env.API_KEY ?? process.env.BOOTSTRAP_API_KEY ?? '' },
  },
});
const auth = opt['api-key'] ? { authorization: `Bearer ${opt['api-key']}` } : {};

const baseUrl = opt['base-url'].replace(/\/+$/, '');
const duration = Math.min(Number(opt.duration), 120);
const connections = Math.min(Number(opt.connections), 1000);
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;
if (!LOOPBACK.test(new URL(baseUrl).hostname)) {
  console.error(`refusing to load ${baseUrl}: this harness only targets loopback addresses`);
  process.exit(2);
}

// ---------- message bodies: unique recipient and text per request (no 409, no 429) ----------
const runId = Date.now().toString(36);
let seq = 0;
const CHANNELS = ['email', 'sms', 'whatsapp', 'push'];
function phone(n) {
  let tail = n % 10_000_000;
  if ([9991, 9992, 9993].includes(tail % 10_000)) tail += 10; // not a forced-failure number
  return `+1555${String(tail).padStart(7, '0')}`;
}
function uniqueMessage() {
  const n = ++seq;
  const channel = CHANNELS[n % CHANNELS.length];
  const text = `load ${runId} #${n}`;
  if (channel === 'email') return { channel, to: `load-${runId}-${n}@example.com`, subject: `Load ${runId}`, body: text };
  if (channel === 'push') return { channel, to: `load-token-${runId}-${String(n).padStart(24, '0')}`, body: text };
  return { channel, to: phone(n), body: text };
}

// ---------- one autocannon run, with our own latency histogram (autocannon has no p95) ----------
async function fire(name, { url = baseUrl, body, headers = {}, ...limits }) {
  const latencies = [];
  const accepted = []; // { id, at }
  const instance = autocannon({
    url: `${url}/v1/messages`,
    connections, ...limits,
    requests: [{
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth, ...headers },
      setupRequest: (req) => ({ ...req, body: JSON.stringify(body ? body() : uniqueMessage()) }),
      onResponse: (status, resBody) => {
        if (status !== 202) return;
        try { accepted.push({ id: JSON.parse(resBody).id, at: Date.now() }); } catch { /* bare endpoint shapes differ */ }
      },
    }],
  });
  instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  const result = await instance;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] : NaN;
  const byStatus = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count]));
  const seconds = result.duration;
  return {
    name, accepted, started: Date.parse(result.start), seconds,
    row: {
      scenario: name,
      'req/s': +(latencies.length / seconds).toFixed(1),
      '202/s': +(accepted.length / seconds).toFixed(1),
      'p50 ms': +pct(50).toFixed(1), 'p95 ms': +pct(95).toFixed(1), 'p99 ms': +pct(99).toFixed(1),
      errors: result.errors + result.timeouts,
      'non-2xx': result.non2xx,
      statuses: JSON.stringify(byStatus),
    },
  };
}

// ---------- end to end: poll a sample of accepted ids until `sent` ----------
async function settle(run) {
  if (!run.accepted.length) return {};
  const want = Math.min(Number(opt.sample), run.accepted.length);
  // The last accepted ids drain last (per-partition order), so they bound the drain time.
  const tail = run.accepted.slice(-Math.ceil(want / 2));
  const random = Array.from({ length: want - tail.length }, () => run.accepted[Math.floor(Math.random() * run.accepted.length)]);
  const pending = new Map([...tail, ...random].map((a) => [a.id, a]));
  const sentAfter = [];
  let lastSentAt = 0;
  const deadline = Date.now() + Number(opt['settle-timeout']) * 1000;
  while (pending.size && Date.now() < deadline) {
    const batch = [...pending.values()];
    for (let i = 0; i < batch.length; i += 20) {
      await Promise.all(batch.slice(i, i + 20).map(async (a) => {
        const res = await fetch(`${baseUrl}/v1/messages/${a.id}`, { headers: auth }).catch(() => null);
        if (!res?.ok) return;
        const view = await res.json();
        // After `sent`, a provider receipt may move it on (delivered, bounced, undelivered): sent all the same.
        if (['sent', 'delivered', 'bounced', 'undelivered', 'failed', 'dead_lettered'].includes(view.status)) {
          pending.delete(a.id);
          const now = Date.now();
          lastSentAt = Math.max(lastSentAt, now);
          if (!['failed', 'dead_lettered'].includes(view.status)) sentAfter.push(now - a.at);
        }
      }));
    }
    if (pending.size) await sleep(200);
  }
  sentAfter.sort((a, b) => a - b);
  const p = (q) => sentAfter.length ? sentAfter[Math.min(sentAfter.length - 1, Math.ceil(q * sentAfter.length) - 1)] : NaN;
  const drainSeconds = (lastSentAt - run.started) / 1000;
  return {
    'delivered/s': pending.size ? 'sample not settled' : +(run.accepted.length / drainSeconds).toFixed(1),
    'accept→sent p50 ms': p(0.5), 'accept→sent p95 ms': p(0.95),
    'sample unsettled': pending.size,
  };
}

// ---------- scenarios (the same as load/k6) ----------
const scenarios = {
  async smoke() {
    return [await fire('smoke', { connections: 1, amount: 20 })];
  },
  async steady() {
    const rate = Number(opt.rate);
    const run = await fire(rate ? `steady @${rate}/s` : 'steady (max)', { duration, ...(rate ? { overallRate: rate } : {}) });
    Object.assign(run.row, await settle(run));
    return [run];
  },
  async spike() {
    const calm = Math.max(2, Math.round(duration / 4));
    const before = await fire('spike: calm', { duration: calm, overallRate: 50, connections: 4 });
    const burst = await fire('spike: burst', { duration: Math.max(2, Math.round(duration / 2)), connections: Math.min(connections * 8, 512) });
    const after = await fire('spike: recovery', { duration: calm, overallRate: 50, connections: 4 });
    Object.assign(burst.row, await settle(burst));
    return [before, burst, after];
  },
  async 'duplicate-storm'() {
    // 20 distinct messages sent over and over without a key: exactly 20 must be accepted (202),
    // every other request is a 409 duplicate. Then one Idempotency-Key hammered: 202 replays.
    const distinct = Array.from({ length: 20 }, () => uniqueMessage());
    let i = 0;
    const storm = await fire('duplicate-storm: content', { amount: 2000, body: () => distinct[i++ % distinct.length] });
    const ids = new Set(storm.accepted.map((a) => a.id));
    storm.row.check = ids.size === distinct.length ? `ok: ${ids.size} accepted of ${distinct.length}` : `FAIL: ${ids.size} distinct ids accepted, want ${distinct.length}`;
    const key = randomUUID();
    const one = uniqueMessage();
    const replay = await fire('duplicate-storm: same key', { amount: 1000, headers: { 'idempotency-key': key }, body: () => one });
    const replayIds = new Set(replay.accepted.map((a) => a.id));
    replay.row.check = replayIds.size === 1 ? 'ok: one id, the rest replays or 409 in flight' : `FAIL: ${replayIds.size} ids for one key`;
    return [storm, replay];
  },
};

const chosen = opt.scenario === 'all' ? Object.keys(scenarios) : opt.scenario.split(',');
const rows = [];
if (opt.baseline) {
  const bare = await startBareExpress(0);
  try {
    rows.push((await fire('baseline: bare express 5', { url: bare.url, duration })).row);
  } finally {
    await bare.close();
  }
}
for (const name of chosen) {
  if (!scenarios[name]) { console.error(`unknown scenario ${name}; one of ${Object.keys(scenarios).join(', ')}`); process.exit(2); }
  for (const run of await scenarios[name]()) rows.push(run.row);
}
console.log(`\nrouter ${baseUrl}, ${connections} connections, ${duration} s per timed scenario, node ${process.version}`);
console.table(rows);
process.exit(rows.some((r) => String(r.check ?? '').startsWith('FAIL') || r.errors > 0) ? 1 : 0);
