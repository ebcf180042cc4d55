import test from 'node:test';
import assert from 'node:assert/strict';
import { testBrokers, testKafka, uniquePrefix, waitFor } from '@ca/testing';
import { observeConsumerLag } from '../src';
import { prometheusHarness, sample } from './support';

test('against the test broker (kcat mock or Kafka): lag counts records a group has not committed, and falls to 0 once it has', async (t) => {
  const kafka = testKafka(await testBrokers());
  const topic = `${uniquePrefix()}send.email`;
  const groupId = `${uniquePrefix()}delivery.email`;
  const producer = kafka.producer();
  await producer.connect();
  t.after(() => producer.disconnect());
  await producer.send({ topic, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });

  const h = await prometheusHarness();
  t.after(() => h.close());
  const lag = observeConsumerLag({ meter: h.meter, admin: kafka.admin(), groups: [{ groupId, topics: [topic] }], intervalMs: 60_000 });
  t.after(() => lag.stop());
  await lag.poll();
  let text = await h.scrape();
  assert.equal(sample(text, 'ca_kafka_consumer_lag_known', { group: groupId }), 1);
  assert.equal(sample(text, 'ca_kafka_consumer_lag', { group: groupId, topic }), 3);

  const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 500 });
  t.after(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  await consumer.run({ eachMessage: async () => { seen++; } });
  await waitFor('the group to consume 3 records', async () => seen === 3, 30_000);
  await consumer.commitOffsets([{ topic, partition: 0, offset: '3' }]);
  await waitFor('lag 0 after the commit', async () => {
    await lag.poll();
    text = await h.scrape();
    return sample(text, 'ca_kafka_consumer_lag', { group: groupId, topic }) === 0;
  }, 30_000, 200);
});
