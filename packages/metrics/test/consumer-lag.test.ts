import test from 'node:test';
import assert from 'node:assert/strict';
import { observeConsumerLag, type LagAdmin } from '../src';
import { prometheusHarness, sample } from './support';

function fakeAdmin(over: Partial<LagAdmin> = {}): LagAdmin {
  return {
    connect: async () => undefined,
    disconnect: async () => undefined,
    fetchTopicOffsets: async (topic) => topic === 'send.email'
      ? [{ partition: 0, low: '0', high: '10' }, { partition: 1, low: '4', high: '9' }]
      : [{ partition: 0, low: '0', high: '0' }],
    // partition 0 committed at 7; partition 1 never committed (counts from its low watermark).
    fetchOffsets: async () => [{ topic: 'send.email', partitions: [{ partition: 0, offset: '7' }, { partition: 1, offset: '-1' }] }],
    ...over,
  };
}

test('lag is high watermark minus committed offset, per group and topic', async (t) => {
  const h = await prometheusHarness();
  t.after(() => h.close());
  const lag = observeConsumerLag({ meter: h.meter, admin: fakeAdmin(), groups: [{ groupId: 'delivery.email', topics: ['send.email', 'send.email.retry'] }], intervalMs: 60_000 });
  t.after(() => lag.stop());
  await lag.poll();
  const text = await h.scrape();
  assert.equal(sample(text, 'ca_kafka_consumer_lag', { group: 'delivery.email', topic: 'send.email' }), 3 + 5);
  assert.equal(sample(text, 'ca_kafka_consumer_lag', { group: 'delivery.email', topic: 'send.email.retry' }), 0);
  assert.equal(sample(text, 'ca_kafka_consumer_lag_known', { group: 'delivery.email' }), 1);
});

test('a broker that does not answer the admin calls makes lag unknown (no series, known=0), not a crash', async (t) => {
  const h = await prometheusHarness();
  t.after(() => h.close());
  const errors: unknown[] = [];
  const lag = observeConsumerLag({
    meter: h.meter,
    admin: fakeAdmin({ fetchOffsets: async () => { throw new Error('This server does not support the requested API version'); } }),
    groups: [{ groupId: 'delivery.sms', topics: ['send.sms'] }],
    intervalMs: 60_000,
    onError: (err) => errors.push(err),
  });
  t.after(() => lag.stop());
  await lag.poll();
  const text = await h.scrape();
  assert.equal(sample(text, 'ca_kafka_consumer_lag', { group: 'delivery.sms' }), undefined);
  assert.equal(sample(text, 'ca_kafka_consumer_lag_known', { group: 'delivery.sms' }), 0);
  assert.equal(errors.length, 1);
});

test('an admin that cannot connect: unknown lag, and the next poll tries again', async (t) => {
  const h = await prometheusHarness();
  t.after(() => h.close());
  let up = false;
  const lag = observeConsumerLag({
    meter: h.meter,
    admin: fakeAdmin({ connect: async () => { if (!up) throw new Error('ECONNREFUSED'); } }),
    groups: [{ groupId: 'delivery.email', topics: ['send.email'] }],
    intervalMs: 60_000,
  });
  t.after(() => lag.stop());
  await lag.poll();
  assert.equal(sample(await h.scrape(), 'ca_kafka_consumer_lag_known', { group: 'delivery.email' }), 0);
  up = true;
  await lag.poll();
  assert.equal(sample(await h.scrape(), 'ca_kafka_consumer_lag', { group: 'delivery.email', topic: 'send.email' }), 8);
});
