/**
 * Prints how long each service takes from process start to a 200 on /health, median of N starts,
 * for the dev command (`node --import tsx src/main.ts`) and the image command (`node dist/main.js`,
 * after `npm run build`). Crash recovery is this time plus the orchestrator's restart delay.
 *   node --import tsx scripts/startup-time.ts [runs=3] [tsx|node ...]
 * Needs PostgreSQL on 127.0.0.1:5432 and kcat (it starts its own mock broker and database).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { startMockBroker } from '@ca/kafka';
import { freePort } from '@ca/testing';

const root = join(__dirname, '..');
const SERVICES = ['logging-service', 'delivery-service', 'router-service'] as const;
const COMMANDS = { tsx: ['--import', 'tsx', 'src/main.ts'], node: ['dist/main.js'] } as const;
type Mode = keyof typeof COMMANDS;

let starts = 0;

async function startOnce(service: string, mode: Mode, env: NodeJS.ProcessEnv): Promise<number> {
  const port = await freePort();
  // Topics and consumer groups of their own: a restarted consumer would otherwise wait for the
  // previous member's session to expire, which measures the broker, not the start-up.
  const prefix = `startup${process.pid}-${(starts += 1)}.`;
  const started = performance.now();
  const child = spawn(process.execPath, [...COMMANDS[mode]], { cwd: join(root, service), env: { ...env, PORT: String(port), KAFKA_TOPIC_PREFIX: prefix }, stdio: 'ignore' });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${service} exited with ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
      if (ok) return performance.now() - started;
      await sleep(10);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((done) => child.once('exit', done));
  }
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 3);
  const modes = (process.argv.slice(3).length ? process.argv.slice(3) : ['tsx', 'node']) as Mode[];
  const broker = await startMockBroker();
  const database = `startup_time_${process.pid}`;
  const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  const env = { ...process.env, KAFKA_BROKERS: broker.brokers, DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${database}`, OTEL_EXPORTER_OTLP_ENDPOINT: '', LOG_LEVEL: 'error' };
  try {
    for (const mode of modes) {
      for (const service of SERVICES) {
        if (mode === 'node' && !existsSync(join(root, service, 'dist/main.js'))) throw new Error(`run \`npm run build\` first (${service}/dist/main.js missing)`);
        const times: number[] = [];
        for (let i = 0; i < runs; i += 1) times.push(await startOnce(service, mode, env));
        times.sort((a, b) => a - b);
        console.log(`${mode.padEnd(4)} ${service.padEnd(17)} median ${Math.round(times[Math.floor(times.length / 2)]!)} ms  (runs: ${times.map(Math.round).join(', ')})`);
      }
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
    await broker.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
