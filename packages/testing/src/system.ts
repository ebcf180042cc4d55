import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { waitFor } from './wait-for';

const ROOT = join(__dirname, '../../..');
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface SystemOptions {
  /** A database of its own, dropped and recreated, so runs never see each other's rows. */
  database: string;
  ports: { router: number; delivery: number; logging: number };
  env?: Record<string, string>;
  /** Where the services' output goes; default: kept in memory (`output`). */
  echo?: boolean;
}

/**
 * The whole system started exactly as `npm start` starts it (scripts/start-all.ts), on ports,
 * database and (via env) topic prefix of the caller's choosing. Resolves once every service is
 * healthy; stop() sends SIGTERM and waits for the graceful shutdown.
 */
export async function startSystem(opts: SystemOptions) {
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${opts.database}" WITH (FORCE)`);
  await admin.end();

  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start-all.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ROUTER_PORT: String(opts.ports.router),
      DELIVERY_PORT: String(opts.ports.delivery),
      LOGGING_PORT: String(opts.ports.logging),
      DATABASE_URL: ADMIN_URL.replace(/\/postgres$/, `/${opts.database}`),
      KAFKA_MAX_WAIT_MS: '100',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (opts.echo) process.stdout.write(chunk);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);

  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((resolve) => { child.once('exit', resolve); setTimeout(resolve, 20_000).unref(); });
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  try {
    await waitFor('the system to start (all services healthy)', async () => {
      if (child.exitCode !== null) throw new Error(`start-all exited with code ${child.exitCode}`);
      return /all services healthy/.test(output);
    }, 90_000, 200);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    urls: {
      router: `http://127.0.0.1:${opts.ports.router}`,
      delivery: `http://127.0.0.1:${opts.ports.delivery}`,
      logging: `http://127.0.0.1:${opts.ports.logging}`,
    },
    output: () => output,
    stop,
  };
}
