import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { HEADERS, recordKey, topicsFor, type SendRecord } from '@ca/contracts';
import { testBrokers, testKafka, testSchema, uniquePrefix, waitFor } from '@ca/testing';

const serviceDir = join(__dirname, '..');

function startProcess(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: serviceDir, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.resume();
  return child;
}

/**
 * The real process, killed with SIGKILL after the provider accepted the message and before the
 * outcome was committed (the simulated provider records its effect, then answers slowly). After
 * a restart the message is sent, and the provider holds exactly one delivered effect.
 */
test('delivery-service SIGKILLed between provider call and commit: sent once after restart', async (t) => {
  const pg = await testSchema('crash');
  t.after(() => pg.cleanup());
  const brokers = await testBrokers();
  const prefix = uniquePrefix();
  const topics = topicsFor(prefix);
  const env = {
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    DATABASE_URL: pg.url,
    DATABASE_SCHEMA: pg.schema,
    PORT: '0',
    DELIVERY_CHANNELS: 'email',
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    LOG_LEVEL: 'error',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_HEARTBEAT_INTERVAL_MS: '500',
    KAFKA_MAX_WAIT_MS: '100',
    OUTBOX_POLL_MS: '100',
    PROVIDER_TIMEOUT_MS: '6000',
    LEASE_MS: '7000',
  };
  let child = startProcess({ ...env, SIM_PROVIDER_LATENCY_MS: '5000' });
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });

  const kafka = testKafka(brokers);
  const producer = kafka.producer();
  await producer.connect();
  t.after(() => producer.disconnect());
  const record: SendRecord = {
    v: 1, id: randomUUID(), channel: 'email', to: 'crash.test@example.com', subject: 'Crash', body: 'once only',
    priority: 'high', createdAt: new Date().toISOString(), traceId: randomUUID().replace(/-/g, ''),
  };
  await producer.send({ topic: topics.send('email'), acks: -1, messages: [{ key: recordKey('email', record.to), value: JSON.stringify(record), headers: { [HEADERS.messageId]: record.id } }] });

  await waitFor('the provider to accept the message', async () => {
    const rows = await pg.db('sim_provider_effects').where({ idempotency_key: record.id }).catch(() => []);
    return rows.length === 1;
  }, 45_000, 25);
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));

  const before = await pg.db('messages').where({ id: record.id }).first();
  assert.notEqual(before.status, 'sent', 'the outcome was not committed before the kill');
  const ledger = await pg.db('delivery_ledger').where({ message_id: record.id }).first();
  assert.equal(ledger.state, 'calling', 'the ledger shows a call that may have happened');

  child = startProcess({ ...env, SIM_PROVIDER_LATENCY_MS: '0' });
  const after = await waitFor('the message to be sent after restart', async () => {
    const row = await pg.db('messages').where({ id: record.id }).first();
    return row?.status === 'sent' ? row : null;
  }, 60_000, 100);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));

  assert.equal(after.attempts, 1);
  const effects = await pg.db('sim_provider_effects').where({ idempotency_key: record.id });
  assert.equal(effects.length, 1, 'exactly one delivered effect');
  const calls = await pg.db('sim_provider_calls').where({ idempotency_key: record.id }).orderBy('id');
  assert.deepEqual(calls.map((c) => c.outcome), ['delivered', 'duplicate_suppressed'], 'the call was repeated, the effect was not');
  const attempts = await pg.db('attempts').where({ message_id: record.id });
  assert.equal(attempts.length, 1);
  assert.equal(attempts[0].outcome, 'sent');
});
