/**
 * `npm test`: type-check, lint, every unit and integration test (node:test) against real PostgreSQL and
 * a Kafka-protocol broker, the compose file check, then the Postman collection (newman) against
 * the system started exactly as `npm start` starts it. Exits non-zero if anything fails.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startMockBroker } from '@ca/kafka';

const root = join(__dirname, '..');
const TEST_ROOTS = ['packages', 'router-service', 'delivery-service', 'logging-service', 'test'];

function findTests(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules') continue;
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) findTests(full, out);
    else if (entry.endsWith('.test.ts')) out.push(relative(root, full));
  }
  return out;
}

function step(title: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  console.log(`\n=== ${title}: ${cmd} ${args.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: 'inherit' });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<number> {
  const filter = process.argv.slice(2);
  if (await step('type-check', process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'])) return 1;
  if (!filter.length && (await step('lint', process.execPath, [join(root, 'node_modules/eslint/bin/eslint.js'), '.']))) return 1;

  // Once, before the tests: the browser tests and every system they start serve this build.
  if (await step('console build (when stale)', process.execPath, [join(root, 'console/build.mjs'), '--if-stale'])) return 1;

  const broker = process.env.KAFKA_BROKERS ? null : await startMockBroker();
  const env = { ...process.env, KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? broker!.brokers };
  let failed = false;
  try {
    const files = TEST_ROOTS.flatMap((d) => findTests(join(root, d))).filter((f) => !filter.length || filter.some((p) => f.includes(p)));
    const code = await step(`node:test (${files.length} files)`, process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=3', '--test-force-exit', '--test-timeout=600000', ...files], env);
    failed ||= code !== 0;

    if (!filter.length) {
      const compose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' });
      if (compose.status === 0) {
        failed ||= (await step('docker-compose config', 'docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'])) !== 0;
      } else {
        console.log('\n=== docker-compose config: skipped (docker-compose not installed; .ci/run installs it)');
      }
      if (existsSync(join(root, 'postman/run.mjs'))) {
        failed ||= (await step('newman: Postman collection against `npm start`', process.execPath, ['--import', 'tsx', 'scripts/e2e-newman.ts'], env)) !== 0;
      }
    }
  } finally {
    await broker?.stop();
  }
  console.log(failed ? '\nFAILED' : '\nall test phases passed');
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
