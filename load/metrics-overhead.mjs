#!/usr/bin/env node
// What metrics cost per HTTP request, in isolation and robust to a busy machine: the same
// instrumented express process (OpenTelemetry SDK with the http + express instrumentations, spans
// made but not exported, exactly as startTelemetry sets it up) started with metrics on (the
// Prometheus reader of packages/metrics, scraped every 15 s) and off (no reader: no
// MeterProvider), rounds interleaved on/off so both see the same load. Each request also makes the
// per-message instrument calls of one delivered message (accepted, sent with its latency and
// attempts histograms). Prints the process CPU per request (from /proc/<pid>/stat, which other
// processes' load does not inflate the way it inflates wall time) and req/s, per round and as
// on/off ratios. See docs/performance.md "Metrics overhead".
//
//   node load/metrics-overhead.mjs [--rounds 3] [--requests 4000] [--connections 16]
//   node load/metrics-overhead.mjs --calls 200000    the instrument calls alone: CPU per message, on vs no-op
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
const ROOT = join(fileURLToPath(import.meta.url), '../..');

const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    requests: { type: 'string', default: '4000' },
    connections: { type: 'string', default: '16' },
    child: { type: 'string' },
    calls: { type: 'string' },
  },
});

if (opt.child?.startsWith('calls-')) {
  runCalls(opt.child === 'calls-on', Number(opt.calls));
} else if (opt.child) {
  await runChild(opt.child === 'on');
} else if (opt.calls) {
  for (const mode of ['calls-off', 'calls-on', 'calls-off', 'calls-on']) {
    await new Promise((resolve) => spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', mode, '--calls', opt.calls], { cwd: ROOT, stdio: 'inherit' }).once('exit', resolve));
  }
} else {
  await runParent();
}

async function runChild(on) {
  process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS = 'http,express';
  const { startTelemetry } = require('@ca/telemetry/start');
  const { createMetricsExport } = require('@ca/metrics/export');
  const metricsExport = createMetricsExport({ exporters: [on ? 'prometheus' : 'none'], otlpEndpoint: '', exportIntervalMs: 60_000 });
  startTelemetry({ serviceName: 'metrics-overhead', serviceVersion: '0', environment: 'bench', otlpEndpoint: '', ignorePaths: ['/metrics'], metricReaders: metricsExport.readers });
  const express = require('express');
  const { createDeliveryMetrics, createRouterMetrics, metricsRoute } = require('@ca/metrics');
  const router = createRouterMetrics();
  const delivery = createDeliveryMetrics();
  const channels = ['email', 'sms', 'whatsapp', 'push'];
  const tenants = Array.from({ length: 30 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
  let n = 0;
  const app = express();
  app.use(metricsRoute(metricsExport.prometheus, { token: null }));
  app.post('/v1/messages', express.json(), (req, res) => {
    n++;
    const channel = channels[n % 4];
    const tenantId = tenants[n % tenants.length];
    router.recordAccepted({ channel, tenantId });
    delivery.recordSent({ channel, provider: `sim-${channel}`, tenantId, attempts: 1 + (n % 3), acceptedAt: new Date(Date.now() - 150).toISOString(), at: new Date() });
    res.status(202).json({ id: String(n), status: 'pending' });
  });
  const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('SIGINT', () => process.exit(0)); // a normal exit, so --cpu-prof writes its profile
}

/** The four instrument calls of one delivered message, `n` times, on a real meter (Prometheus reader) or the no-op one. */
function runCalls(on, n) {
  const { MeterProvider } = require('@opentelemetry/sdk-metrics');
  const { metrics } = require('@opentelemetry/api');
  const { createMetricsExport, createDeliveryMetrics, createRouterMetrics } = require('@ca/metrics');
  const meter = on ? new MeterProvider({ readers: createMetricsExport({ exporters: ['prometheus'], otlpEndpoint: '', exportIntervalMs: 60_000 }).readers }).getMeter('bench') : metrics.getMeter('noop');
  const router = createRouterMetrics({ meter });
  const delivery = createDeliveryMetrics({ meter });
  const channels = ['email', 'sms', 'whatsapp', 'push'];
  const tenants = Array.from({ length: 30 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
  const acceptedAt = new Date(Date.now() - 150).toISOString();
  for (let pass = 0; pass < 2; pass++) { // the first pass warms up
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const channel = channels[i % 4];
      const tenantId = tenants[i % 30];
      router.recordAccepted({ channel, tenantId });
      delivery.recordSent({ channel, provider: `sim-${channel}`, tenantId, attempts: 1 + (i % 3), acceptedAt, at: new Date() });
    }
    const c = process.cpuUsage(c0);
    if (pass === 1) console.log(`instrument calls, meter ${on ? 'on ' : 'off'}: ${((c.user + c.system) / n).toFixed(2)} µs CPU per delivered message (4 calls)`);
  }
}

function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}

async function oneRound(on) {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', on ? 'on' : 'off'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await new Promise((resolve, reject) => { child.once('message', resolve); child.once('exit', (c) => reject(new Error(`child exited ${c}`))); });
  const url = `http://127.0.0.1:${port}`;
  const fire = (amount) => autocannon({
    url: `${url}/v1/messages`, connections: Number(opt.connections), amount,
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'email', to: 'a@example.com', body: 'x' }),
  });
  await fire(1000); // warm-up: JIT, first-use allocations
  const scraper = on ? setInterval(() => { fetch(`${url}/metrics`).then((r) => r.text()).catch(() => {}); }, 15_000) : null;
  const t0 = cpuTicks(child.pid);
  const r = await fire(Number(opt.requests));
  const cpuMs = (cpuTicks(child.pid) - t0) * 10;
  if (scraper) clearInterval(scraper);
  child.kill('SIGKILL');
  const ok = r['2xx'];
  return { on, ok, cpuUsPerRequest: (cpuMs * 1000) / ok, perSecond: ok / r.duration, p99: r.latency.p99 };
}

async function runParent() {
  const rows = [];
  for (let i = 0; i < Number(opt.rounds); i++) {
    for (const on of i % 2 === 0 ? [true, false] : [false, true]) {
      const row = await oneRound(on);
      rows.push(row);
      console.error(`round ${i + 1} metrics ${on ? 'on ' : 'off'}: ${row.cpuUsPerRequest.toFixed(0)} µs CPU/request, ${row.perSecond.toFixed(0)} req/s, p99 ${row.p99} ms`);
    }
  }
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
  const of = (on, k) => median(rows.filter((r) => r.on === on).map((r) => r[k]));
  console.log(`| | metrics on | metrics off | on/off |
| --- | --- | --- | --- |
| CPU per request (median of ${opt.rounds}) | ${of(true, 'cpuUsPerRequest').toFixed(0)} µs | ${of(false, 'cpuUsPerRequest').toFixed(0)} µs | ${(of(true, 'cpuUsPerRequest') / of(false, 'cpuUsPerRequest')).toFixed(3)} |
| requests/s (median) | ${of(true, 'perSecond').toFixed(0)} | ${of(false, 'perSecond').toFixed(0)} | ${(of(true, 'perSecond') / of(false, 'perSecond')).toFixed(3)} |`);
}
