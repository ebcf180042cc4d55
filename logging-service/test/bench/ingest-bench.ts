/**
 * Ingest benchmark: posts a realistic OTLP export (512 spans, as the OpenTelemetry JS batch
 * processor sends them, JSON by default like our services' exporter) to logging-service built
 * in-process on a PostgreSQL store, many times, and prints spans/s. A benchmark, not a test.
 *
 *   node --import tsx logging-service/test/bench/ingest-bench.ts [--exports 200] [--concurrency 4] [--format json|protobuf]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx logging-service/test/bench/ingest-bench.ts   # profile
 *
 * DATABASE_URL (default postgres://postgres@127.0.0.1:5432/comm_aggregator_test); a schema of its
 * own, dropped at the end.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger } from '@ca/telemetry';
import { buildLoggingService } from '../../src/app';
import { createPostgresStore } from '../../src/sinks/postgres-store';
import { encodeTraces, traceRequest } from '../fixtures/otlp-fixtures';

const { values } = parseArgs({ options: { exports: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '4' }, format: { type: 'string', default: 'json' } } });
const EXPORTS = Number(values.exports);
const CONCURRENCY = Number(values.concurrency);
const FORMAT = values.format === 'protobuf' ? 'protobuf' : 'json';
const URL_ = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/comm_aggregator_test';

type Json = Record<string, unknown>;
type Rs = { resource: Json; scopeSpans: Array<{ scope: Json; spans: Json[] }> };

/** 512 spans: copies of the fixture's 7-span journey (http, pg, kafka, provider, events), fresh ids. */
function exportBody(): { body: Buffer | string; spans: number } {
  const resourceSpans: Rs[] = [];
  let spans = 0;
  while (spans < 512) {
    const req = traceRequest(randomBytes(16).toString('hex')) as { resourceSpans: Rs[] };
    for (const rs of req.resourceSpans) {
      for (const ss of rs.scopeSpans) for (const s of ss.spans) s.spanId = randomBytes(8).toString('hex');
      spans += rs.scopeSpans.reduce((n, ss) => n + ss.spans.length, 0);
    }
    resourceSpans.push(...req.resourceSpans);
  }
  const json = { resourceSpans };
  return { body: FORMAT === 'json' ? JSON.stringify(json) : encodeTraces(json), spans };
}

async function main() {
  const schema = `bench_${randomUUID().slice(0, 8)}`;
  // Its own application_name, so the PostgreSQL backends serving it can be found and their CPU read.
  const url = new URL(URL_);
  url.searchParams.set('application_name', schema);
  const store = createPostgresStore({ url: url.toString(), schema, retryAfterSeconds: 5 });
  const service = buildLoggingService({
    store, logger: createLogger({ service: 'bench', level: 'error', silent: true }),
    limits: { maxBodyBytes: 16 << 20, maxRecords: 32_768, bodyTimeoutMs: 60_000, maxInFlight: 64, maxInFlightBytes: 256 << 20, retryAfterSeconds: 5 },
  });
  await service.start();
  const server = service.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as { port: number };
  // Every export has ids of its own, so each one inserts new rows (no ON CONFLICT shortcut).
  const bodies = Array.from({ length: EXPORTS + 8 }, exportBody);
  const post = async (i: number) => {
    const { body } = bodies[i % bodies.length]!;
    const res = await fetch(`http://127.0.0.1:${port}/v1/traces`, { method: 'POST', body, headers: { 'content-type': FORMAT === 'json' ? 'application/json' : 'application/x-protobuf' } });
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    await res.arrayBuffer();
  };
  for (let i = 0; i < 8; i += 1) await post(i); // warm-up
  let next = 8;
  const backends = async () => (await store.db.raw('SELECT pid FROM pg_stat_activity WHERE application_name = ?', [schema])).rows as Array<{ pid: number }>;
  /** utime + stime of those backends in ms (/proc, 100 ticks/s); NaN where /proc is not readable. */
  const pgCpuMs = (pids: number[]) => pids.reduce((sum, pid) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return sum + (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      return NaN;
    }
  }, 0);
  const pids = (await backends()).map((r) => r.pid);
  const pg0 = pgCpuMs(pids);
  const started = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < EXPORTS + 8) await post(next++);
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const spans = EXPORTS * bodies[0]!.spans;
  // Backends the pool opened during the run count whole (their CPU before the run is nil).
  const pgMs = pgCpuMs([...new Set([...pids, ...(await backends()).map((r) => r.pid)])]) - pg0;
  console.log(JSON.stringify({
    format: FORMAT, exports: EXPORTS, spansPerExport: bodies[0]!.spans, concurrency: CONCURRENCY, seconds: +seconds.toFixed(2),
    spansPerSecond: Math.round(spans / seconds), cpuMsPerSpan: +((cpu.user + cpu.system) / 1000 / spans).toFixed(3),
    postgresCpuMsPerSpan: +(pgMs / spans).toFixed(3),
  }));
  server.close();
  await store.db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
  await service.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
