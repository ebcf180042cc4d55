/**
 * Runs the Postman collection (newman) against the whole system started exactly as `npm start`
 * starts it, on its own ports, database and topic prefix so it never meets a system a developer
 * has running. Uses KAFKA_BROKERS when set (the test runner's broker).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startSystem } from '@ca/testing';

async function main(): Promise<number> {
  const system = await startSystem({
    database: 'comm_aggregator_e2e',
    env: { KAFKA_TOPIC_PREFIX: `e2e.${randomUUID().slice(0, 8)}.` },
    echo: true,
  });
  try {
    return await new Promise<number>((resolve) => {
      const run = spawn(process.execPath, ['postman/run.mjs'], {
        cwd: join(__dirname, '..'),
        env: { ...process.env, ROUTER_URL: system.urls.router, DELIVERY_URL: system.urls.delivery, LOGGING_URL: system.urls.logging, API_KEY: system.apiKey },
        stdio: 'inherit',
      });
      run.on('exit', (c) => resolve(c ?? 1));
    });
  } finally {
    await system.stop();
  }
}

main().then((c) => process.exit(c), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
