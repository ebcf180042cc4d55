import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBroker } from '../support/kafka';
import { AUTH, call, countRows, postMessage, SAMPLES, startRouter } from '../support/router-harness';

const brokers = useBroker();

type Result = { index: number; status: number; message?: { id: string; status: string }; replayed?: boolean; problem?: { code: string; status: number; errors?: unknown[] } };
type Batch = { accepted: number; refused: number; results: Result[] };

const postBatch = async (url: string, messages: unknown) => {
  const res = await call(url, 'POST', '/v1/messages/batch', AUTH, { messages });
  return { status: res.status, body: res.body as unknown as Batch };
};

test('batch: each item gets its own 202 or its own problem; the valid ones are stored together', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const sendAt = new Date(Date.now() + 600_000).toISOString();
  const res = await postBatch(h.url, [
    { ...SAMPLES.email, idempotencyKey: 'k-1' },
    { ...SAMPLES.sms, body: 'no subject allowed', subject: 'x' },
    { ...SAMPLES.push, priority: 'high' },
    { ...SAMPLES.sms, sendAt },
    { ...SAMPLES.push, priority: 'high' }, // same content as item 2, no key: a duplicate
    { ...SAMPLES.whatsapp, sendAt: '2000-01-01T00:00:00Z' },
    { ...SAMPLES.email, idempotencyKey: 42 },
  ]);
  assert.equal(res.status, 200);
  const r = res.body.results;
  assert.deepEqual(r.map((x) => x.status), [202, 400, 202, 202, 409, 422, 400]);
  assert.deepEqual(r.map((x) => x.index), [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(r[1]!.problem!.code, 'VALIDATION_FAILED');
  assert.equal(r[3]!.message!.status, 'scheduled');
  assert.equal(r[4]!.problem!.code, 'DUPLICATE_MESSAGE');
  assert.equal(r[5]!.problem!.code, 'SEND_AT_OUT_OF_RANGE');
  assert.equal(r[6]!.problem!.code, 'IDEMPOTENCY_KEY_INVALID');
  assert.equal(res.body.accepted, 3);
  assert.equal(res.body.refused, 4);
  assert.equal(await countRows(h.db, 'messages'), 3);
  const outbox = await h.db('outbox').orderBy('id').select('topic', 'not_before', 'lane');
  assert.deepEqual(outbox.map((o) => o.topic), [h.topics.lane('email', 'medium'), h.topics.lane('push', 'high'), h.topics.lane('sms', 'medium')]);
  assert.equal(outbox[1].lane, 0);
  assert.equal(outbox[2].not_before.toISOString(), sendAt);

  // Each accepted item is a message like any other.
  const view = await call(h.url, 'GET', `/v1/messages/${r[0]!.message!.id}`, AUTH);
  assert.notEqual(view.status, 404);
});

test('batch: idempotent per item key, across batches and single requests', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const items = [
    { ...SAMPLES.sms, body: 'a', idempotencyKey: 'order-1' },
    { ...SAMPLES.sms, body: 'b', idempotencyKey: 'order-2' },
  ];
  const first = await postBatch(h.url, items);
  assert.deepEqual(first.body.results.map((x) => x.status), [202, 202]);
  const again = await postBatch(h.url, [...items, { ...SAMPLES.sms, body: 'changed', idempotencyKey: 'order-1' }, { ...SAMPLES.sms, body: 'c', idempotencyKey: 'order-3' }]);
  const r = again.body.results;
  assert.deepEqual(r.map((x) => x.status), [202, 202, 422, 202]);
  assert.equal(r[0]!.replayed, true);
  assert.equal(r[0]!.message!.id, first.body.results[0]!.message!.id);
  assert.equal(r[1]!.message!.id, first.body.results[1]!.message!.id);
  assert.equal(r[2]!.problem!.code, 'IDEMPOTENCY_KEY_REUSED');
  assert.equal(r[3]!.replayed, undefined);
  assert.equal(again.body.accepted, 1);
  assert.equal(await countRows(h.db, 'messages'), 3);
  // A single request with a batch item's key replays the batch item.
  const single = await postMessage(h.url, { ...SAMPLES.sms, body: 'a' }, { 'idempotency-key': 'order-1' });
  assert.equal(single.status, 202);
  assert.equal(single.body.id, first.body.results[0]!.message!.id);
  assert.equal(single.headers.get('idempotent-replayed'), 'true');
});

test('batch: the per-recipient limit counts every item; only accepted items use the quota', async (t) => {
  const h = await startRouter(t, { brokers: brokers(), settings: { rateLimitPerMinute: 3 } });
  const items = Array.from({ length: 5 }, (_, i) => ({ ...SAMPLES.sms, body: `n${i}` }));
  const res = await postBatch(h.url, items);
  assert.deepEqual(res.body.results.map((x) => x.status), [202, 202, 202, 429, 429]);
  assert.equal(res.body.results[3]!.problem!.code, 'RATE_LIMITED');
  const [bucket] = await h.db('rate_limits').select('count');
  assert.equal(bucket.count, 3);
  // The refused items left no content claim: the same text is free once the window allows.
  assert.equal(await countRows(h.db, 'dedup'), 3);
});

test('batch: 1,000 items in one transaction and a handful of statements; more than the maximum → 413', async (t) => {
  const h = await startRouter(t, { brokers: brokers(), settings: { rateLimitPerMinute: 0 } });
  const items = Array.from({ length: 1000 }, (_, i) => ({ ...SAMPLES.sms, to: `+1415557${String(1000 + i)}`, body: `bulk ${i}`, idempotencyKey: `bulk-${i}` }));
  let statements = 0;
  const count = () => { statements++; };
  h.db.on('query', count);
  const started = Date.now();
  const res = await postBatch(h.url, items);
  h.db.off('query', count);
  t.diagnostic(`1,000 items: ${Date.now() - started} ms, ${statements} SQL statements`);
  assert.equal(res.status, 200);
  assert.equal(res.body.accepted, 1000);
  assert.equal(await countRows(h.db, 'messages'), 1000);
  assert.equal(await countRows(h.db, 'outbox'), 1000);
  // BEGIN, keys, dedup/limits (off here), messages, outbox, COMMIT, plus authentication: not 1,000 round trips.
  assert.ok(statements < 20, `${statements} statements`);

  const tooMany = await call(h.url, 'POST', '/v1/messages/batch', AUTH, { messages: [...items, { ...SAMPLES.sms }] });
  assert.equal(tooMany.status, 413);
  assert.equal(tooMany.body.code, 'BATCH_TOO_LARGE');
  const empty = await call(h.url, 'POST', '/v1/messages/batch', AUTH, { messages: [] });
  assert.equal(empty.status, 400);
  const notAList = await call(h.url, 'POST', '/v1/messages/batch', AUTH, [SAMPLES.sms]);
  assert.equal(notAList.status, 400);
  assert.equal(await countRows(h.db, 'messages'), 1000);
});
