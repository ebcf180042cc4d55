#!/usr/bin/env node
// Issue 9 item 4: a HIGH message is never stuck behind a LOW backlog. Starts the system exactly as
// `npm start` does (scripts/start-all.ts: router, delivery, logging, on a database of its own),
// queues --low LOW messages (POST /v1/messages/batch, 1,000 per request), then sends --high HIGH
// messages one by one while the LOW backlog drains, and prints accept→sent of the HIGH ones
// (router messages.created_at → delivery attempts.finished_at, both from PostgreSQL) next to the
// LOW backlog's own drain, as a markdown block for docs/performance.md.
//
//   node --import tsx load/priority-lanes.mjs [--low 5000] [--high 50] [--channel sms] [--drain-seconds 300]
//
// After the last HIGH message is sent it waits at most --drain-seconds for the LOW backlog and
// reports the LOW messages sent by then.
//
// The per-API-key and per-recipient limits are off (this measures lanes, not quotas); every message
// has its own recipient and text. Needs PostgreSQL on 127.0.0.1:5432 and kcat (or KAFKA_BROKERS).
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import kafkajs from 'kafkajs';
import kafkaPkg from '@ca/kafka';
import testing from '@ca/testing';

const { startMockBroker } = kafkaPkg;
const { startSystem } = testing;

const { values: opt } = parseArgs({
  options: {
    low: { type: 'string', default: '5000' },
    high: { type: 'string', default: '50' },
    channel: { type: 'string', default: 'sms' },
    'drain-seconds': { type: 'string', default: '300' },
    // Wait until the router has published the whole LOW backlog to Kafka before the HIGH phase
    // (default: HIGH starts while the relay is still publishing it, the harder case).
    'after-relay': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log('node --import tsx load/priority-lanes.mjs [--low 5000] [--high 50] [--channel sms]');
  process.exit(0);
}
const LOW = Number(opt.low);
const HIGH = Number(opt.high);
const channel = opt.channel;
const BATCH = 1000;

const recipient = (n) => (channel === 'email' ? `lane-${n}@example.com` : `+1${String(4_155_000_000 + n)}`);
const message = (n, priority) => ({
  channel, to: recipient(n), body: `${priority} ${n} ${randomUUID()}`, priority,
  ...(channel === 'email' || channel === 'push' ? { subject: 'lanes' } : {}),
});
// CPU seconds per process (Linux /proc), to see who uses the two cores while HIGH messages run.
const cpuByProcess = () => {
  const out = new Map();
  let entries = [];
  try { entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d)); } catch { return out; }
  for (const pid of entries) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const file = cmd.find((a) => /\.(ts|mjs|js)$/.test(a));
      let cwd = '';
      try { cwd = readlinkSync(`/proc/${pid}/cwd`).split('/').at(-1); } catch { /* not ours */ }
      const script = file ? `${cwd}/${file}`.split('/').slice(-3).join('/') : cmd[0]?.split('/').at(-1) ?? pid;
      out.set(pid, { name: script.startsWith('postgres') || cmd[0]?.startsWith('postgres') ? 'postgres (all backends)' : script, ticks });
    } catch { /* gone */ }
  }
  return out;
};
const cpuBetween = (before, after, seconds) => {
  const byName = new Map();
  for (const [pid, a] of after) {
    const used = (a.ticks - (before.get(pid)?.ticks ?? 0)) / 100;
    if (used > 0) byName.set(a.name, (byName.get(a.name) ?? 0) + used);
  }
  return [...byName].sort((x, y) => y[1] - x[1]).slice(0, 8).map(([name, s]) => `${name} ${(s / seconds).toFixed(2)}`).join(' · ');
};
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

const broker = process.env.KAFKA_BROKERS ? null : await startMockBroker();
const prefix = `lanes.${randomUUID().slice(0, 8)}.`;
const system = await startSystem({
  database: 'ca_priority_lanes',
  env: {
    ...(broker ? { KAFKA_BROKERS: broker.brokers } : {}),
    KAFKA_TOPIC_PREFIX: prefix,
    API_RATE_LIMIT_PER_SECOND: '0',
    RATE_LIMIT_PER_RECIPIENT_PER_MINUTE: '0',
    LOG_LEVEL: 'warn',
  },
});
const db = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${system.database}` });
await db.connect();
const headers = { authorization: `Bearer ${system.apiKey}`, 'content-type': 'application/json' };

try {
  // 1. The LOW backlog, 1,000 per request.
  const lowIds = [];
  const lowStarted = Date.now();
  for (let from = 0; from < LOW; from += BATCH) {
    const messages = Array.from({ length: Math.min(BATCH, LOW - from) }, (_, i) => message(from + i, 'low'));
    const res = await fetch(`${system.urls.router}/v1/messages/batch`, { method: 'POST', headers, body: JSON.stringify({ messages }) });
    const body = await res.json();
    if (res.status !== 200 || body.accepted !== messages.length) throw new Error(`LOW batch refused: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    lowIds.push(...body.results.map((r) => r.message.id));
  }
  const lowAcceptedMs = Date.now() - lowStarted;

  const routerOutbox = async () => Number((await db.query('SELECT count(*) AS n FROM router.outbox')).rows[0].n);
  const outboxAtHighStart = opt['after-relay'] ? 0 : await routerOutbox();
  while (opt['after-relay'] && (await routerOutbox()) > 0) await new Promise((r) => setTimeout(r, 100));

  // 2. HIGH messages, one request each, 5 at a time, while LOW drains.
  const highIds = [];
  const cpuBefore = cpuByProcess();
  const highStarted = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: 5 }, async () => {
    while (next < HIGH) {
      const n = LOW + next++;
      const res = await fetch(`${system.urls.router}/v1/messages`, { method: 'POST', headers, body: JSON.stringify(message(n, 'high')) });
      if (res.status !== 202) throw new Error(`HIGH refused: ${res.status} ${await res.text()}`);
      highIds.push((await res.json()).id);
    }
  }));

  // 3. Wait for every HIGH, then for the LOW backlog.
  const sentCount = async (ids) => Number((await db.query(`SELECT count(*) AS n FROM delivery.messages WHERE id = ANY($1::uuid[]) AND status IN ('sent', 'delivered', 'bounced', 'undelivered')`, [ids])).rows[0].n);
  const deadline = Date.now() + 600_000;
  while ((await sentCount(highIds)) < HIGH) {
    if (Date.now() > deadline) throw new Error('HIGH messages not sent within 10 min');
    await new Promise((r) => setTimeout(r, 100));
  }
  const lowSentWhenHighDone = await sentCount(lowIds);
  const outboxAtHighEnd = await routerOutbox();
  const highSeconds = (Date.now() - highStarted) / 1000;
  const cpuWhileHigh = cpuBetween(cpuBefore, cpuByProcess(), highSeconds);
  const drainUntil = Date.now() + Number(opt['drain-seconds']) * 1000;
  while ((await sentCount(lowIds)) < LOW && Date.now() < drainUntil) await new Promise((r) => setTimeout(r, 250));

  const latency = async (ids) => (await db.query(
    `SELECT extract(epoch FROM (a.finished_at - m.created_at)) * 1000 AS ms
       FROM router.messages m JOIN delivery.attempts a ON a.message_id = m.id AND a.outcome = 'sent'
      WHERE m.id = ANY($1::uuid[])`, [ids])).rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
  // The attempt's own time: provider call and commit.
  const stages = (await db.query(
    `SELECT extract(epoch FROM (a.finished_at - a.started_at)) * 1000 AS attempt
       FROM delivery.attempts a WHERE a.outcome = 'sent' AND a.message_id = ANY($1::uuid[])`, [highIds])).rows;
  const stage = (k) => stages.map((r) => Number(r[k])).sort((a, b) => a - b);
  // When each HIGH record reached Kafka (the broker's record timestamp): splits the wait into
  // the router's outbox relay and delivery-service's fetch + claim.
  const kafka = new kafkajs.Kafka({ clientId: 'priority-lanes', brokers: (broker?.brokers ?? process.env.KAFKA_BROKERS).split(','), logLevel: kafkajs.logLevel.NOTHING });
  const reader = kafka.consumer({ groupId: `lanes-reader-${randomUUID()}` });
  const publishedAt = new Map();
  await reader.connect();
  await reader.subscribe({ topics: [`${prefix}send.${channel}.high`], fromBeginning: true });
  await reader.run({ eachMessage: async ({ message: m }) => { publishedAt.set(m.headers?.['x-message-id']?.toString(), Number(m.timestamp)); } });
  const readUntil = Date.now() + 30_000;
  while (highIds.some((id) => !publishedAt.has(id)) && Date.now() < readUntil) await new Promise((r) => setTimeout(r, 100));
  await reader.disconnect();
  const accepted = new Map((await db.query('SELECT id, created_at FROM router.messages WHERE id = ANY($1::uuid[])', [highIds])).rows.map((r) => [r.id, r.created_at.getTime()]));
  const started = new Map((await db.query(`SELECT message_id, started_at FROM delivery.attempts WHERE outcome = 'sent' AND message_id = ANY($1::uuid[])`, [highIds])).rows.map((r) => [r.message_id, r.started_at.getTime()]));
  const relayed = highIds.filter((id) => publishedAt.has(id)).map((id) => publishedAt.get(id) - accepted.get(id)).sort((a, b) => a - b);
  const fetched = highIds.filter((id) => publishedAt.has(id) && started.has(id)).map((id) => started.get(id) - publishedAt.get(id)).sort((a, b) => a - b);
  // Where a HIGH message's time goes, span by span (logging-service's PostgreSQL store): for each
  // span name, p50 of its start after the accept and of its duration, over the HIGH traces.
  // Spans reach the store a few seconds after they end (batch export), so wait until it stops growing.
  const spanRows = async () => (await db.query(
    `SELECT d.doc->'span'->>'name' AS span_name, d.doc->'transaction'->>'name' AS tx_name, d.service,
            d.ts_us / 1000.0 - extract(epoch FROM m.created_at) * 1000 AS start_ms,
            coalesce((d.doc->'span'->'duration'->>'us')::numeric, (d.doc->'transaction'->'duration'->>'us')::numeric) / 1000.0 AS dur_ms
       FROM router.messages m JOIN logging.documents d ON d.trace_id = m.trace_id AND d.kind IN ('span', 'transaction')
      WHERE m.id = ANY($1::uuid[])`, [highIds])).rows;
  let spans = await spanRows();
  for (let waited = 0; waited < 20_000; waited += 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    const again = await spanRows();
    if (again.length === spans.length) break;
    spans = again;
  }
  const bySpan = new Map();
  for (const r of spans) {
    const name = `${r.service} · ${r.span_name ?? r.tx_name}`;
    const e = bySpan.get(name) ?? { start: [], dur: [] };
    e.start.push(Number(r.start_ms));
    e.dur.push(Number(r.dur_ms));
    bySpan.set(name, e);
  }
  const waterfall = [...bySpan].map(([name, e]) => ({ name, n: e.start.length, start: pct(e.start.sort((a, b) => a - b), 50), dur: pct(e.dur.sort((a, b) => a - b), 50), p95: pct(e.dur, 95) }))
    .sort((a, b) => a.start - b.start);
  const high = await latency(highIds);
  const low = await latency(lowIds);
  const f = (ms) => `${Math.round(ms)} ms`;
  const load = loadavg()[0].toFixed(1);
  console.log(`
### Priority lanes (issue 9 item 4) — \`node --import tsx load/priority-lanes.mjs --low ${LOW} --high ${HIGH} --channel ${channel}\`

${new Date().toISOString()}, ${cpus().length} CPUs, load average ${load} at the end (other work on the machine included).
${LOW} LOW messages queued in ${Math.ceil(LOW / BATCH)} batch requests (${f(lowAcceptedMs)}), then ${HIGH} HIGH messages sent one by one.

| | count | accept→sent p50 | p95 | max | target |
| --- | --- | --- | --- | --- | --- |
| HIGH (sent while LOW drains) | ${high.length} | ${f(pct(high, 50))} | ${f(pct(high, 95))} | ${f(high.at(-1))} | p95 ≤ 1 s: ${pct(high, 95) <= 1000 ? 'met' : 'NOT met'} |
| LOW backlog (sent${low.length < LOW ? ` within ${opt['drain-seconds']} s after the last HIGH` : ''}) | ${low.length} | ${f(pct(low, 50))} | ${f(pct(low, 95))} | ${f(low.at(-1))} | — |

LOW messages already sent when the last HIGH one was: ${lowSentWhenHighDone} of ${LOW} (the backlog was still draining).
${opt['after-relay'] ? 'HIGH phase started once the router had published the whole LOW backlog to Kafka (--after-relay).' : `LOW rows still in the router's outbox (not yet on Kafka) when the HIGH phase started: ${outboxAtHighStart}; when it ended: ${outboxAtHighEnd}.`}

HIGH stages, p50 / p95: accept → on Kafka (router's outbox relay) ${f(pct(relayed, 50))} / ${f(pct(relayed, 95))}
(${relayed.length} of ${HIGH} records found); on Kafka → attempt started (delivery's fetch, claim) ${f(pct(fetched, 50))} / ${f(pct(fetched, 95))};
the attempt (provider call + commit) ${f(pct(stage('attempt'), 50))} / ${f(pct(stage('attempt'), 95))}.

CPU cores used per process while the HIGH messages ran (${highSeconds.toFixed(1)} s): ${cpuWhileHigh}.

HIGH traces span by span (p50 start after accept, p50 / p95 duration; spans of ${HIGH} traces):

| span | count | starts at (p50) | duration p50 | p95 |
| --- | --- | --- | --- | --- |
${waterfall.map((w) => `| ${w.name} | ${w.n} | ${f(w.start)} | ${f(w.dur)} | ${f(w.p95)} |`).join('\n')}
`);
} finally {
  await db.end();
  await system.stop();
  await broker?.stop();
}
