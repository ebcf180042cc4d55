import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { waitFor } from './wait-for';

const ROOT = join(__dirname, '../../..');
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface SystemOptions {
  /** A database of its own, dropped and recreated, so runs never see each other's rows; the name gets a random suffix. */
  database: string;
  /** Fixed ports; by default each service gets a free port chosen by the OS, so runs never collide. */
  ports?: { router: number; delivery: number; logging: number; routerHttps?: number };
  env?: Record<string, string>;
  /** Where the services' output goes; default: kept in memory (`output`). */
  echo?: boolean;
}

/**
 * The whole system started exactly as `npm start` starts it (scripts/start-all.ts), on ports,
 * database and (via env) topic prefix of the caller's choosing. Resolves once every service is
 * healthy; stop() sends SIGTERM and waits for the graceful shutdown.
 */
/** A TCP port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function startSystem(opts: SystemOptions) {
  const database = `${opts.database}_${randomUUID().slice(0, 8)}`;
  // The admin+send+read key of merchant `default` (router-service's BOOTSTRAP_API_KEY) for this run.
  const apiKey = opts.env?.BOOTSTRAP_API_KEY ?? `ca_test_${randomBytes(24).toString('base64url')}`;
  const ports = opts.ports ?? { router: await freePort(), delivery: await freePort(), logging: await freePort() };
  const routerHttps = ports.routerHttps ?? await freePort();
  const providerSim = await freePort();
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await admin.end();

  let output = '';
  const env = {
    ...process.env,
    ROUTER_PORT: String(ports.router),
    DELIVERY_PORT: String(ports.delivery),
    LOGGING_PORT: String(ports.logging),
    ROUTER_HTTPS_PORT: String(routerHttps),
    PROVIDER_SIM_PORT: String(providerSim),
    DATABASE_URL: ADMIN_URL.replace(/\/postgres$/, `/${database}`),
    KAFKA_MAX_WAIT_MS: '100',
    BOOTSTRAP_API_KEY: apiKey,
    ...opts.env,
  };
  const launch = () => {
    // A process group of its own: halt() can then reach every service even if start-all is gone,
    // so no service outlives the test (an orphan holding the output pipe keeps the test process alive).
    const started = spawn(process.execPath, ['--import', 'tsx', 'scripts/start-all.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (opts.echo) process.stdout.write(chunk);
    };
    started.stdout!.on('data', collect);
    started.stderr!.on('data', collect);
    return started;
  };
  let child = launch();

  /** SIGTERM to start-all (graceful shutdown of every service), then SIGKILL to its whole process group. */
  const halt = async () => {
    const running = child.exitCode === null && child.signalCode === null;
    if (running) {
      child.kill('SIGTERM');
      await new Promise((resolve) => { child.once('exit', resolve); setTimeout(resolve, 30_000).unref(); });
    }
    // Whatever is left of the group (a service start-all could not stop in time) goes now.
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* the group is already gone */
    }
  };
  const stop = async () => {
    await halt();
    // Each run has a database of its own; leave none behind.
    const cleanup = new Client({ connectionString: ADMIN_URL });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).finally(() => cleanup.end());
  };
  const healthy = async (from: number) => {
    await waitFor('the system to start (all services healthy)', async () => {
      if (child.exitCode !== null) throw new Error(`start-all exited with code ${child.exitCode}`);
      return /all services healthy/.test(output.slice(from));
    }, 180_000, 200);
  };
  try {
    await healthy(0);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    urls: {
      router: `http://127.0.0.1:${ports.router}`,
      routerHttps: `https://localhost:${routerHttps}`,
      delivery: `http://127.0.0.1:${ports.delivery}`,
      logging: `http://127.0.0.1:${ports.logging}`,
      providerSim: `http://127.0.0.1:${providerSim}`,
    },
    apiKey,
    output: () => output,
    database,
    stop,
    /**
     * Stops every service (graceful shutdown) and starts them again on the same ports and database;
     * resolves once all are healthy again. The broker is the caller's (KAFKA_BROKERS) and stays up.
     */
    async restart(between?: () => Promise<void>): Promise<void> {
      await halt();
      await between?.();
      const from = output.length;
      child = launch();
      try {
        await healthy(from);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n--- start-all output ---\n${output.slice(from).slice(-4000)}`);
      }
    },
  };
}
