import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config';

test('defaults apply and KAFKA_BROKERS is split', () => {
  const config = loadConfig({ KAFKA_BROKERS: 'a:9092,b:9092' });
  assert.equal(config.port, 3000);
  assert.deepEqual(config.kafka.brokers, ['a:9092', 'b:9092']);
  assert.equal(config.database.schema, 'router');
  assert.equal(config.settings.dedupWindowSeconds, 3600);
  assert.equal(config.settings.rateLimitPerMinute, 60);
  assert.equal(config.settings.outboxPollMs, 250);
  assert.equal(config.settings.traceViewUrl, 'http://127.0.0.1:4000');
  assert.ok(Object.isFrozen(config.settings));
});

test('missing KAFKA_BROKERS and bad numbers are reported together', () => {
  assert.throws(() => loadConfig({ PORT: 'x', OUTBOX_BATCH_SIZE: '0' }), (err: Error) =>
    /KAFKA_BROKERS/.test(err.message) && /PORT/.test(err.message) && /OUTBOX_BATCH_SIZE/.test(err.message));
});

test('an empty TRACE_VIEW_URL turns trace links off', () => {
  assert.equal(loadConfig({ KAFKA_BROKERS: 'a:1', TRACE_VIEW_URL: '' }).settings.traceViewUrl, '');
});

test('FAULTS and ADMIN_TOKEN: off by default; parsed at start; a bad switch or short token stops the start', () => {
  const plain = loadConfig({ KAFKA_BROKERS: 'a:1' });
  assert.deepEqual(plain.faults, {});
  assert.equal(plain.settings.adminToken, null);
  const drill = loadConfig({ KAFKA_BROKERS: 'a:1', FAULTS: 'broker.publish_failure=0.5,postgres.latency_ms=50', ADMIN_TOKEN: 'a-long-enough-admin-token' });
  assert.deepEqual(drill.faults, { 'broker.publish_failure': 0.5, 'postgres.latency_ms': 50 });
  assert.equal(drill.settings.adminToken, 'a-long-enough-admin-token');
  assert.throws(() => loadConfig({ KAFKA_BROKERS: 'a:1', FAULTS: 'broker.publish_failure=2' }), /FAULTS: .*broker\.publish_failure/);
  assert.throws(() => loadConfig({ KAFKA_BROKERS: 'a:1', ADMIN_TOKEN: 'short' }), /ADMIN_TOKEN/);
});
