/**
 * `npm start`: the whole system on embedded defaults. Starts a local Kafka-protocol broker (kcat's
 * librdkafka mock cluster) when KAFKA_BROKERS is unset, then logging-service, delivery-service and
 * router-service, each as its own process exactly as `npm start -w <service>` would. Ctrl-C stops
 * everything in reverse order. Any other variable (PORT excepted) is passed through to all three.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMockBroker, type MockBroker } from '@ca/kafka';

const root = join(__dirname, '..');
const SERVICES = [
  { name: 'logging-service', port: process.env.LOGGING_PORT ?? '4000' },
  // delivery-service is waited for until ready (consumers joined), the others until alive.
  { name: 'delivery-service', port: process.env.DELIVERY_PORT ?? '3001', path: '/ready' },
  { name: 'router-service', port: process.env.ROUTER_PORT ?? '3000' },
] as const;

const children: ChildProcess[] = [];
let broker: MockBroker | null = null;
let stopping = false;

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

async function stopAll(code: number): Promise<never> {
  stopping = true;
  for (const child of [...children].reverse()) {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((done) => { child.once('exit', done); setTimeout(done, 15_000).unref(); });
    }
  }
  await broker?.stop();
  process.exit(code);
}

async function main(): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (!env.KAFKA_BROKERS) {
    broker = await startMockBroker();
    env.KAFKA_BROKERS = broker.brokers;
    // The mock broker holds a fetch for its full wait time even when data arrives; real Kafka does not.
    env.KAFKA_MAX_WAIT_MS ??= '100';
    console.log(JSON.stringify({ level: 'info', service: 'start-all', message: 'started embedded Kafka-protocol broker (kcat mock cluster)', brokers: broker.brokers }));
  }
  const urls = Object.fromEntries(SERVICES.map((s) => [s.name, `http://127.0.0.1:${s.port}`]));
  env.DELIVERY_URL ??= urls['delivery-service'];
  env.TRACE_VIEW_URL ??= urls['logging-service'];
  env.OTEL_EXPORTER_OTLP_ENDPOINT ??= urls['logging-service'];

  for (const svc of SERVICES) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: join(root, svc.name),
      env: { ...env, PORT: svc.port },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    children.push(child);
    child.once('exit', (code, signal) => {
      if (stopping) return;
      console.error(JSON.stringify({ level: 'error', service: 'start-all', message: `${svc.name} exited`, code, signal }));
      void stopAll(1);
    });
    await waitHealthy(svc.name, svc.port, child, 'path' in svc ? svc.path : undefined);
  }
  console.log(JSON.stringify({ level: 'info', service: 'start-all', message: 'all services healthy', ...urls }));
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
main().catch((err: unknown) => {
  console.error(JSON.stringify({ level: 'error', service: 'start-all', message: (err as Error).message }));
  void stopAll(1);
});
