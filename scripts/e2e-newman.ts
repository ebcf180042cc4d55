/**
 * Runs the Postman collection (newman) against the whole system started exactly as `npm start`
 * starts it (scripts/start-all.ts), on its own ports, database and topic prefix so it never meets
 * a system a developer has running. Uses KAFKA_BROKERS when set (the test runner's broker).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';

const root = join(__dirname, '..');
const ports = { ROUTER_PORT: '13000', DELIVERY_PORT: '13001', LOGGING_PORT: '14000' };
const adminUrl = process.env.TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = 'comm_aggregator_e2e';

async function resetDatabase(): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await client.end();
}

async function waitForLine(stream: NodeJS.ReadableStream, pattern: RegExp, timeoutMs: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`system did not start within ${timeoutMs} ms`)), timeoutMs);
    stream.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      if (pattern.test(chunk.toString())) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

async function main(): Promise<number> {
  await resetDatabase();
  const dbUrl = adminUrl.replace(/\/[^/]*$/, `/${database}`);
  const system = spawn(process.execPath, ['--import', 'tsx', 'scripts/start-all.ts'], {
    cwd: root,
    env: { ...process.env, ...ports, DATABASE_URL: dbUrl, KAFKA_TOPIC_PREFIX: `e2e.${randomUUID().slice(0, 8)}.`, KAFKA_MAX_WAIT_MS: '100' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let code = 1;
  try {
    await waitForLine(system.stdout!, /all services healthy/, 90_000);
    code = await new Promise<number>((resolve) => {
      const run = spawn(process.execPath, ['postman/run.mjs'], {
        cwd: root,
        env: {
          ...process.env,
          ROUTER_URL: `http://127.0.0.1:${ports.ROUTER_PORT}`,
          DELIVERY_URL: `http://127.0.0.1:${ports.DELIVERY_PORT}`,
          LOGGING_URL: `http://127.0.0.1:${ports.LOGGING_PORT}`,
        },
        stdio: 'inherit',
      });
      run.on('exit', (c) => resolve(c ?? 1));
    });
  } finally {
    system.kill('SIGTERM');
    await Promise.race([new Promise((r) => system.once('exit', r)), sleep(20_000)]);
    if (system.exitCode === null) system.kill('SIGKILL');
  }
  return code;
}

main().then((c) => process.exit(c), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
