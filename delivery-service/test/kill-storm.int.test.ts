import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { HEADERS, recordKey, topicsFor, type SendRecord } from '@ca/contracts';
import { testBrokers, testKafka, testSchema, uniquePrefix, waitFor } from '@ca/testing';

const serviceDir = join(__dirname, '..');
const MESSAGES = 200;
const KILLS = 5;

function startProcess(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: serviceDir, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.resume();
  return child;
}

/**
 * The real delivery-service process, SIGKILLed five times while it is sending and restarted each
 * time: every message ends sent, with exactly one delivered effect at the provider.
 */
test('kill storm: 200 messages, delivery-service SIGKILLed 5 times mid-send, each delivered exactly once', async (t) => {
  const pg = await testSchema('storm');
  t.after(() => pg.cleanup());
  const brokers = await testBrokers();
  const prefix = uniquePrefix();
  const topics = topicsFor(prefix);
  const env = {
    KAFKA_BROKERS: brokers.join(','), KAFKA_TOPIC_PREFIX: prefix, DATABASE_URL: pg.url, DATABASE_SCHEMA: pg.schema,
    PORT: '0', DELIVERY_CHANNELS: 'email', OTEL_EXPORTER_OTLP_ENDPOINT: '', LOG_LEVEL: 'error',
    KAFKA_SESSION_TIMEOUT_MS: '6000', KAFKA_HEARTBEAT_INTERVAL_MS: '500', KAFKA_MAX_WAIT_MS: '100',
    OUTBOX_POLL_MS: '100', PROVIDER_TIMEOUT_MS: '2000', LEASE_MS: '3000', SIM_PROVIDER_LATENCY_MS: '40',
    DELIVERY_KEY_CONCURRENCY: '8',
  };
  let child = startProcess(env);
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });

  const producer = testKafka(brokers).producer();
  await producer.connect();
  t.after(() => producer.disconnect());
  const records: SendRecord[] = Array.from({ length: MESSAGES }, (_, i) => ({
    v: 1, id: randomUUID(), channel: 'email', to: `storm${i % 40}@example.com`, subject: 'Storm', body: `n${i}`,
    priority: 'medium', createdAt: new Date().toISOString(), traceId: randomUUID().replace(/-/g, ''),
  }));
  await producer.send({
    topic: topics.send('email'), acks: -1,
    messages: records.map((r) => ({ key: recordKey('email', r.to), value: JSON.stringify(r), headers: { [HEADERS.messageId]: r.id } })),
  });
  const effects = async () => Number((await pg.db('sim_provider_effects').count({ n: '*' }).first().catch(() => undefined))?.n ?? 0);

  for (let kill = 1; kill <= KILLS; kill++) {
    const before = await effects();
    // Kill while sending: once this life has delivered something new, and before everything is done.
    await waitFor(`life ${kill} to deliver`, async () => (await effects()) > before, 60_000, 20);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    child = startProcess(env);
  }
  assert.ok((await effects()) < MESSAGES, 'the storm hit while messages were still being sent');

  await waitFor('every message sent', async () => {
    const n = Number((await pg.db('messages').where({ status: 'sent' }).count({ n: '*' }).first())?.n);
    return n === MESSAGES;
  }, 90_000, 200);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));

  const rows: Array<{ idempotency_key: string }> = await pg.db('sim_provider_effects').select('idempotency_key');
  assert.equal(rows.length, MESSAGES, 'one delivered effect per message');
  assert.deepEqual(new Set(rows.map((r) => r.idempotency_key)), new Set(records.map((r) => r.id)));
  const attempts: Array<{ message_id: string; outcome: string }> = await pg.db('attempts').select('message_id', 'outcome');
  assert.equal(attempts.filter((a) => a.outcome === 'sent').length, MESSAGES, 'one sent attempt per message');
});
