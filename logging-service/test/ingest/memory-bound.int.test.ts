import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createDb } from '@ca/postgres';
import { freePort, waitFor } from '@ca/testing';
import { OTLP_TYPES } from '../../src/otlp/otlp-proto';
import { span } from '../fixtures/otlp-fixtures';
import { ld, TEST_DATABASE_URL } from '../helpers';

/** The bound logging-service/README.md states for the default limits (MiB of resident memory). */
const RSS_BOUND_MIB = 512;
const MiB = 1024 * 1024;

/** A valid gzip protobuf export of identical spans `padding` bytes larger than usual, decoding to just under 16 MiB. */
function attackExport(padding: number): { body: Buffer; spans: number; decoded: number } {
  const s = span({ id: 'eee19b7ec3c1b174', name: 'GET /v1/messages/:id', kind: 2, from: 0, to: 5, attributes: {
    'http.method': 'GET', 'http.status_code': 200, 'http.target': '/v1/messages/m-1', 'pad': 'x'.repeat(padding) } });
  const proto = OTLP_TYPES.span;
  const one = ld(2, Buffer.from(proto.encode(proto.fromObject({ ...s, traceId: Buffer.from(s.traceId as string, 'hex'), spanId: Buffer.from(s.spanId as string, 'hex') })).finish()));
  const spans = Math.floor((16 * MiB - 4096) / one.length);
  const decoded = ld(1, ld(2, Buffer.concat(Array.from({ length: spans }, () => one))));
  return { body: gzipSync(decoded), spans, decoded: decoded.length };
}

/** The same attack as OTLP/JSON. */
function attackJson(padding: number): { body: Buffer; spans: number; decoded: number } {
  const one = JSON.stringify(span({ id: 'eee19b7ec3c1b174', name: 'GET /v1/messages/:id', kind: 2, from: 0, to: 5, attributes: {
    'http.method': 'GET', 'http.status_code': 200, 'http.target': '/v1/messages/m-1', 'pad': 'x'.repeat(padding) } }));
  const spans = Math.floor((16 * MiB - 4096) / (one.length + 1));
  const decoded = Buffer.from(`{"resourceSpans":[{"scopeSpans":[{"spans":[${Array.from({ length: spans }, () => one).join(',')}]}]}]}`);
  return { body: gzipSync(decoded), spans, decoded: decoded.length };
}

const peakRssMiB = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

test('16 concurrent gzip exports that each decode to ~16 MiB: logging-service stays up, under its RSS bound, /health answers', async (t) => {
  const port = await freePort();
  const schema = `t_${randomUUID().slice(0, 8)}`;
  const child = spawn(process.execPath, [...(process.env.LH_NODE_FLAGS ? process.env.LH_NODE_FLAGS.split(' ') : []), '--import', 'tsx', join(__dirname, '../../src/main.ts')], {
    env: { ...process.env, PORT: String(port), DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema, ELASTICSEARCH_URL: '', LOG_LEVEL: 'error', OTEL_EXPORTER_OTLP_ENDPOINT: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited: number | null = null;
  child.on('exit', (code) => { exited = code ?? -1; });
  t.after(async () => {
    child.kill('SIGKILL');
    const db = createDb({ url: TEST_DATABASE_URL, schema });
    await db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    await db.destroy();
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('logging-service to listen', async () => (await fetch(`${url}/health`)).ok, 180_000, 250);
  t.diagnostic(`RSS after start ${peakRssMiB(child.pid!).toFixed(0)} MiB`);

  const healthLatencies: number[] = [];
  let attacking = true;
  const health = (async () => {
    while (attacking) {
      const t0 = Date.now();
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) });
      assert.equal(res.status, 200);
      healthLatencies.push(Date.now() - t0);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

  // Tiny spans: ~100k per export, over INGEST_MAX_RECORDS (413). Padded spans: ~25k per export, stored.
  for (const [format, padding] of [['protobuf', 0], ['protobuf', 500], ['json', 500]] as const) {
    const attack = format === 'json' ? attackJson(padding) : attackExport(padding);
    t.diagnostic(`${format} padding ${padding}: ${attack.spans} spans, ${attack.body.length} bytes gzip → ${attack.decoded} bytes`);
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 16 }, () =>
      fetch(`${url}/v1/traces`, { method: 'POST', body: attack.body, headers: { 'content-type': `application/${format === 'json' ? 'json' : 'x-protobuf'}`, 'content-encoding': 'gzip' } }).then((r) => r.status)));
    const counts = answers.reduce<Record<number, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {});
    t.diagnostic(`${format} padding ${padding}: answers ${JSON.stringify(counts)} in ${Date.now() - started} ms; peak RSS ${peakRssMiB(child.pid!).toFixed(0)} MiB`);
    assert.ok(answers.every((s) => s === 200 || s === 413 || s === 429), JSON.stringify(counts));
    if (padding === 0) assert.ok(answers.includes(413));
    else assert.ok(answers.includes(200));
    assert.equal(exited, null, 'logging-service exited');
  }
  attacking = false;
  await health;
  const peak = peakRssMiB(child.pid!);
  t.diagnostic(`peak RSS ${peak.toFixed(0)} MiB; /health answered ${healthLatencies.length} times, slowest ${Math.max(...healthLatencies)} ms`);
  assert.ok(peak < RSS_BOUND_MIB, `peak RSS ${peak.toFixed(0)} MiB ≥ ${RSS_BOUND_MIB} MiB`);
  assert.ok(healthLatencies.length > 0);
});
