import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHANNELS, PRIORITIES, TOPIC_SUFFIX, deliveryGroupId, topicsFor } from '../src';

/** infra/topics.json (what kafka-init creates on real Kafka) names exactly the topics the code uses. */
test('infra/topics.json lists every topic of topicsFor(), lanes included, and nothing else', () => {
  const file = JSON.parse(readFileSync(join(__dirname, '../../../infra/topics.json'), 'utf8')) as { topics: Array<{ name: string }> };
  const t = topicsFor('');
  const used = new Set<string>([t.deadLetter, t.status, t.webhookDeliver]);
  for (const c of CHANNELS) {
    used.add(t.send(c));
    used.add(t.retry(c));
    for (const p of PRIORITIES) used.add(t.lane(c, p));
  }
  assert.deepEqual(new Set(file.topics.map((x) => x.name)), used);
});

test('priority lanes: medium keeps send.<channel> and its group; high and low have their own', () => {
  const t = topicsFor('p.');
  assert.equal(t.lane('sms', 'medium'), t.send('sms'));
  assert.equal(t.lane('sms', 'high'), 'p.send.sms.high');
  assert.equal(TOPIC_SUFFIX.lane('email', 'low'), 'send.email.low');
  assert.equal(deliveryGroupId('p.', 'sms'), 'p.delivery.sms');
  assert.equal(deliveryGroupId('p.', 'sms', 'medium'), 'p.delivery.sms');
  assert.equal(deliveryGroupId('p.', 'sms', 'high'), 'p.delivery.sms.high');
});
