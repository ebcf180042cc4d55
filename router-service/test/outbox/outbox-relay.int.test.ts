import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEADERS } from '@ca/contracts';
import { createLogger } from '@ca/telemetry';
import { createOutboxRelay } from '@ca/outbox';
import { readRecords, testProducer, useBroker } from '../support/kafka';
import { countRows, defer, postMessage, SAMPLES, startRouter, waitFor } from '../support/router-harness';

const brokers = useBroker();
const DEAD_BROKER = '127.0.0.1:1';
const silent = createLogger({ service: 'test', level: 'error', silent: true });
const clock = { now: () => new Date() };

test('Kafka unreachable: 202 anyway, the message waits in the outbox; a relay on a live broker drains it later', async (t) => {
  const h = await startRouter(t, { brokers: DEAD_BROKER, producer: testProducer(DEAD_BROKER, { retries: 0 }) });
  h.service.relay.start(); // keeps failing to connect, backing off

  const res = await postMessage(h.url, SAMPLES.whatsapp);
  assert.equal(res.status, 202);
  const id = (res.body as { id: string }).id;
  await new Promise((r) => setTimeout(r, 1500)); // several relay rounds against the dead broker
  // Nothing half-written, nothing lost: the message row and its outbox row are both there.
  assert.equal(await countRows(h.db, 'messages'), 1);
  const waiting = await h.db('outbox').select('topic', 'headers');
  assert.equal(waiting.length, 1);
  assert.equal(waiting[0].topic, h.topics.send('whatsapp'));
  assert.equal(waiting[0].headers[HEADERS.messageId], id);
  await h.service.relay.stop();

  // Kafka is back (here: a relay whose producer points at the live broker).
  const producer = testProducer(brokers());
  const relay = createOutboxRelay({ db: h.db, producer, logger: silent, clock, random: Math.random, pollMs: 50, batchSize: 10 });
  relay.start();
  defer(t, async () => { await relay.stop(); await producer.disconnect(); });
  const records = await readRecords(brokers(), [h.topics.send('whatsapp')], 1);
  assert.equal(records.length, 1);
  assert.equal(records[0]!.headers[HEADERS.messageId], id);
  await waitFor(async () => (await countRows(h.db, 'outbox')) === 0);
});

test('two relays on one outbox (SKIP LOCKED) publish every row exactly once between them', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const ids = new Set<string>();
  for (let i = 0; i < 30; i++) {
    const res = await postMessage(h.url, { ...SAMPLES.sms, to: `+1415555${String(1000 + i)}`, body: `n${i}` });
    assert.equal(res.status, 202);
    ids.add((res.body as { id: string }).id);
  }
  const producers = [testProducer(brokers()), testProducer(brokers())];
  const relays = producers.map((producer) => createOutboxRelay({ db: h.db, producer, logger: silent, clock, random: Math.random, pollMs: 20, batchSize: 4 }));
  defer(t, async () => {
    await Promise.all(relays.map((r) => r.stop()));
    await Promise.all(producers.map((p) => p.disconnect()));
  });
  for (const r of relays) r.start();
  await waitFor(async () => (await countRows(h.db, 'outbox')) === 0, 15_000);
  const records = await readRecords(brokers(), [h.topics.send('sms')], 30, { settleMs: 1000 });
  const seen = records.map((r) => r.headers[HEADERS.messageId]);
  assert.equal(seen.length, 30);
  assert.deepEqual(new Set(seen), ids);
});

test('an urgent kick publishes HIGH rows at once while the main loop sleeps; LOW rows wait for the main loop', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const producer = testProducer(brokers());
  // The main loop polls once a minute: whatever goes out within the test was sent because of a kick.
  const relay = createOutboxRelay({ db: h.db, producer, logger: silent, clock, random: Math.random, pollMs: 60_000, batchSize: 10 });
  defer(t, async () => { await relay.stop(); await producer.disconnect(); });
  const sentinel = await postMessage(h.url, { ...SAMPLES.sms, to: '+14155550101', body: 'first round' });
  assert.equal(sentinel.status, 202);
  relay.start();
  await waitFor(async () => (await countRows(h.db, 'outbox')) === 0); // the main loop's first round is done; it sleeps now

  const low = await postMessage(h.url, { ...SAMPLES.sms, to: '+14155550102', body: 'newsletter', priority: 'low' });
  const high = await postMessage(h.url, { ...SAMPLES.sms, to: '+14155550103', body: 'password reset', priority: 'high' });
  assert.equal(low.status, 202);
  assert.equal(high.status, 202);
  relay.kick({ urgent: true });
  const [record] = await readRecords(brokers(), [h.topics.lane('sms', 'high')], 1);
  assert.equal(record?.headers[HEADERS.messageId], high.body.id, 'the HIGH row went out on the urgent kick');
  const left = await h.db('outbox').select('topic', 'headers');
  assert.deepEqual(left.map((r) => r.headers[HEADERS.messageId]), [low.body.id], 'the HIGH round took HIGH rows only; LOW waits for the main loop');

  relay.kick();
  await waitFor(async () => (await countRows(h.db, 'outbox')) === 0);
  const lows = await readRecords(brokers(), [h.topics.lane('sms', 'low')], 1);
  assert.equal(lows[0]?.headers[HEADERS.messageId], low.body.id);
});

test('an urgent kick for a HIGH message that is not due yet (sendAt) hands it to the main loop, which sends it when due', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const producer = testProducer(brokers());
  const relay = createOutboxRelay({ db: h.db, producer, logger: silent, clock, random: Math.random, pollMs: 60_000, batchSize: 10 });
  defer(t, async () => { await relay.stop(); await producer.disconnect(); });
  relay.start();
  await waitFor(async () => (await countRows(h.db, 'outbox')) === 0);
  const sendAt = new Date(Date.now() + 1500);
  const res = await postMessage(h.url, { ...SAMPLES.sms, to: '+14155550104', body: 'at a set time', priority: 'high', sendAt: sendAt.toISOString() });
  assert.equal(res.status, 202);
  assert.equal(res.body.status, 'scheduled');
  relay.kick({ urgent: true }); // nothing HIGH is due: the main loop must learn of the new due time
  const [record] = await readRecords(brokers(), [h.topics.lane('sms', 'high')], 1, { timeoutMs: 15_000 });
  assert.equal(record?.headers[HEADERS.messageId], res.body.id);
  assert.ok(record!.timestamp >= sendAt.getTime(), 'not before sendAt');
  assert.ok(record!.timestamp < sendAt.getTime() + 10_000, `sent when due, not at the next minute's poll (${record!.timestamp - sendAt.getTime()} ms late)`);
});

test('LOW yields to HIGH: after a HIGH round the main loop publishes MEDIUM but holds LOW, for at most maxHoldMs', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const producer = testProducer(brokers());
  // The quiet window outlasts the test: LOW can only go out because of the bound.
  const maxHoldMs = 4000;
  const relay = createOutboxRelay({ db: h.db, producer, logger: silent, clock, random: Math.random, pollMs: 60_000, batchSize: 10, lowYield: { quietMs: 600_000, maxHoldMs } });
  defer(t, async () => { await relay.stop(); await producer.disconnect(); });
  relay.start();
  await waitFor(async () => (await countRows(h.db, 'outbox')) === 0);
  const waiting = async () => (await h.db('outbox').select('headers')).map((r) => r.headers[HEADERS.messageId] as string);

  const low = await postMessage(h.url, { ...SAMPLES.sms, to: '+14155550105', body: 'digest', priority: 'low' });
  const high = await postMessage(h.url, { ...SAMPLES.sms, to: '+14155550106', body: 'login code', priority: 'high' });
  assert.equal(high.status, 202);
  relay.kick({ urgent: true });
  await waitFor(async () => !(await waiting()).includes(high.body.id as string));
  const medium = await postMessage(h.url, { ...SAMPLES.sms, to: '+14155550107', body: 'receipt' });
  const heldFrom = Date.now();
  relay.kick();
  await waitFor(async () => !(await waiting()).includes(medium.body.id as string));
  assert.deepEqual(await waiting(), [low.body.id], 'MEDIUM went out; LOW waits while HIGH ran recently');

  // No kick: the main loop wakes when the hold ends (its poll is a minute away).
  await waitFor(async () => (await waiting()).length === 0, 20_000);
  const heldFor = Date.now() - heldFrom;
  assert.ok(heldFor < maxHoldMs + 5000, `LOW went out once held for maxHoldMs, not at the next poll (${heldFor} ms)`);
  const [l] = await readRecords(brokers(), [h.topics.lane('sms', 'low')], 1);
  assert.equal(l?.headers[HEADERS.messageId], low.body.id);
});
