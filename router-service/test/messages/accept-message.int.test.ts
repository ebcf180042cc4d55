import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHANNELS, HEADERS, sendRecordSchema, type SendRecord } from '@ca/contracts';
import { recordKey } from '@ca/contracts';
import { readRecords, useBroker } from '../support/kafka';
import { countRows, postMessage, SAMPLES, startRouter, waitFor } from '../support/router-harness';

const brokers = useBroker();

test('each channel: 202 with links, message + outbox rows, then a record on send.<channel> and an empty outbox', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const accepted = new Map<string, { id: string; traceId: string }>();

  for (const channel of CHANNELS) {
    const res = await postMessage(h.url, { ...SAMPLES[channel], correlationId: `order-${channel}`, metadata: { n: 1, ok: true } },
      { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    assert.equal(res.status, 202, channel);
    const body = res.body as { id: string; status: string; traceId: string; links: { self: string; trace: string } };
    assert.match(body.id, /^[0-9a-f-]{36}$/);
    assert.equal(body.status, 'pending');
    assert.match(body.traceId, /^[0-9a-f]{32}$/);
    assert.equal(body.links.self, `/v1/messages/${body.id}`);
    assert.equal(body.links.trace, `http://traces.test/traces/${body.traceId}`);
    assert.equal(res.headers.get('location'), `/v1/messages/${body.id}`);
    assert.match(res.headers.get('traceresponse') ?? '', new RegExp(`^00-${body.traceId}-[0-9a-f]{16}-0[01]$`));
    accepted.set(channel, body);
  }

  // Durable before any relay ran: one message row and one outbox row per request.
  assert.equal(await countRows(h.db, 'messages'), 4);
  const outbox = await h.db('outbox').select('topic', 'key', 'headers').orderBy('id');
  assert.deepEqual(outbox.map((r: { topic: string }) => r.topic), CHANNELS.map((c) => h.topics.send(c)));
  assert.equal(outbox[1].key, recordKey('sms', SAMPLES.sms.to));
  assert.equal(outbox[1].key.includes(SAMPLES.sms.to), false, 'no recipient in the Kafka key');
  const stored = await h.db('messages').where({ id: accepted.get('email')!.id }).first();
  assert.equal(stored.recipient, SAMPLES.email.to);
  assert.equal(stored.priority, 'medium');
  assert.deepEqual(stored.metadata, { n: 1, ok: true });

  h.service.relay.start();
  const records = await readRecords(brokers(), CHANNELS.map((c) => h.topics.send(c)), 4);
  assert.equal(records.length, 4);
  for (const channel of CHANNELS) {
    const record = records.find((r) => r.topic === h.topics.send(channel));
    assert.ok(record, `record on ${h.topics.send(channel)}`);
    const { id, traceId } = accepted.get(channel)!;
    assert.equal(record.key, recordKey(channel, SAMPLES[channel].to));
    const value = JSON.parse(record.value) as SendRecord;
    assert.equal(sendRecordSchema.validate(value).error, undefined);
    assert.equal(value.id, id);
    assert.equal(value.channel, channel);
    assert.equal(value.to, SAMPLES[channel].to);
    assert.equal(value.body, SAMPLES[channel].body);
    assert.equal(value.correlationId, `order-${channel}`);
    assert.equal(value.traceId, traceId);
    assert.equal(record.headers[HEADERS.messageId], id);
    assert.equal(record.headers[HEADERS.channel], channel);
    assert.equal(record.headers[HEADERS.attempt], '1');
    assert.match(record.headers[HEADERS.traceparent] ?? '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-[0-9a-f]{2}$`));
  }
  await waitFor(async () => (await countRows(h.db, 'outbox')) === 0);
  assert.equal(await countRows(h.db, 'messages'), 4);
});

test('the relay publishes one recipient\'s messages in the order they were accepted', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) {
    const res = await postMessage(h.url, { ...SAMPLES.sms, body: `message ${i}` });
    assert.equal(res.status, 202);
    ids.push((res.body as { id: string }).id);
  }
  h.service.relay.start();
  const records = await readRecords(brokers(), [h.topics.send('sms')], 10);
  assert.deepEqual(records.map((r) => r.headers[HEADERS.messageId]), ids);
});
