import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { HEADERS, deliveryGroupId, recordKey, topicsFor, type SendRecord } from '@ca/contracts';
import { testBrokers, testKafka, testSchema, uniquePrefix, waitFor } from '@ca/testing';

const serviceDir = join(__dirname, '..');

function startProcess(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: serviceDir, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.resume();
  return child;
}

const exited = (child: ChildProcess) => new Promise((resolve) => { if (child.exitCode !== null || child.signalCode !== null) resolve(null); else child.once('exit', resolve); });

/**
 * The HIGH lane fetches while its records run (worker/record-pipeline.ts): a HIGH record that
 * arrives while an earlier one is in its provider call starts at once instead of after it. And it
 * commits offsets itself, so what it must not lose is checked on the real process: SIGKILLed with
 * both records mid-call, each is sent exactly once after the restart; stopped gracefully, the
 * group's committed offset covers every record.
 */
test('HIGH lane: a record is taken while an earlier one is still in its provider call; a kill loses and doubles nothing', async (t) => {
  const pg = await testSchema('highlane');
  t.after(() => pg.cleanup());
  const brokers = await testBrokers();
  const prefix = uniquePrefix();
  const topics = topicsFor(prefix);
  const topic = topics.lane('email', 'high');
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
    PROVIDER_TIMEOUT_MS: '30000',
    LEASE_MS: '31000',
  };
  // The provider records each effect at once and answers 20 s later: both calls are still open when the process dies.
  let child = startProcess({ ...env, SIM_PROVIDER_LATENCY_MS: '20000' });
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });

  const kafka = testKafka(brokers);
  const producer = kafka.producer();
  await producer.connect();
  t.after(() => producer.disconnect());
  const record = (to: string): SendRecord => ({
    v: 1, id: randomUUID(), channel: 'email', to, subject: 'Reset', body: 'your code', priority: 'high',
    createdAt: new Date().toISOString(), traceId: randomUUID().replace(/-/g, ''),
  });
  const send = (r: SendRecord) => producer.send({ topic, acks: -1, messages: [{ key: recordKey('email', r.to), value: JSON.stringify(r), headers: { [HEADERS.messageId]: r.id } }] });
  const effects = async (id: string) => (await pg.db('sim_provider_effects').where({ idempotency_key: id }).catch(() => [])).length;

  const first = record('first.high@example.com');
  await send(first);
  await waitFor('the provider to take the first record', async () => (await effects(first.id)) === 1, 45_000, 25);
  const second = record('second.high@example.com');
  await send(second);
  await waitFor('the provider to take the second record while the first call is open', async () => (await effects(second.id)) === 1, 15_000, 25);
  const firstRow = await pg.db('messages').where({ id: first.id }).first();
  assert.notEqual(firstRow.status, 'sent', 'the second record started while the first was still in its provider call');

  child.kill('SIGKILL');
  await exited(child);
  child = startProcess({ ...env, SIM_PROVIDER_LATENCY_MS: '0' });
  for (const r of [first, second]) {
    const row = await waitFor(`${r.to} to be sent after the restart`, async () => {
      const m = await pg.db('messages').where({ id: r.id }).first();
      return m?.status === 'sent' ? m : null;
    }, 60_000, 100);
    assert.equal(row.attempts, 1);
    assert.equal(await effects(r.id), 1, 'exactly one delivered effect');
    const calls = await pg.db('sim_provider_calls').where({ idempotency_key: r.id }).orderBy('id');
    assert.deepEqual(calls.map((c) => c.outcome), ['delivered', 'duplicate_suppressed'], 'the call was repeated, the effect was not');
  }

  // Graceful stop: the pipeline's last commit lands before the consumer leaves.
  child.kill('SIGTERM');
  await exited(child);
  const admin = kafka.admin();
  await admin.connect();
  t.after(() => admin.disconnect());
  const ends = await admin.fetchTopicOffsets(topic);
  const [committed] = await admin.fetchOffsets({ groupId: deliveryGroupId(prefix, 'email', 'high'), topics: [topic] });
  for (const end of ends) {
    const at = committed!.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
    if (end.offset === '0') continue; // an empty partition has nothing to commit
    assert.equal(at, end.offset, `partition ${end.partition}: committed up to the end`);
  }
});
