import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { createKafka } from '@ca/kafka';
import type { StatusEvent } from '@ca/contracts';
import { waitFor } from '@ca/testing';
import { AUTH, SAMPLES, TEST_TENANT_ID, call, postMessage, startRouter } from '../support/router-harness';
import { useBroker } from '../support/kafka';

const brokers = useBroker();

/** A merchant's receiver on port 0: answers each POST with the next scripted status (then the last one). */
async function receiver(t: import('node:test').TestContext, script: number[]) {
  const got: Array<{ headers: IncomingHttpHeaders; body: string; at: number }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      got.push({ headers: req.headers, body, at: Date.now() });
      res.writeHead(script[Math.min(got.length - 1, script.length - 1)]!).end();
    });
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, got };
}

test('SSRF: loopback, private, link-local, IPv6 loopback, IPv4-mapped and a name resolving to loopback are refused with 422 naming the reason', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const refused: Array<[string, RegExp]> = [
    ['http://127.0.0.1:8080/hook', /loopback/],
    ['http://10.1.2.3/hook', /private/],
    ['http://169.254.169.254/latest/meta-data', /linkLocal/],
    ['http://[::1]/hook', /loopback/],
    ['http://[::ffff:127.0.0.1]/hook', /loopback/],
    ['http://100.64.0.1/hook', /carrierGradeNat/],
    ['http://localhost:9/hook', /localhost resolves to .*loopback/],
    ['ftp://example.com/hook', /VALIDATION_FAILED|scheme/],
  ];
  for (const [url, reason] of refused) {
    const res = await call(h.url, 'POST', '/v1/webhooks', AUTH, { url, events: ['message.delivered'] });
    assert.ok(res.status === 422 || res.status === 400, `${url}: ${res.status}`);
    assert.equal(res.headers.get('content-type')?.split(';')[0], 'application/problem+json');
    if (res.status === 422) {
      assert.equal(res.body.code, 'WEBHOOK_URL_REFUSED', url);
      assert.match(String(res.body.reason), reason, url);
    } else assert.match(String(res.body.code), reason);
  }
  assert.equal((await call(h.url, 'GET', '/v1/webhooks', AUTH)).body.data instanceof Array, true);
  assert.deepEqual((await call(h.url, 'GET', '/v1/webhooks', AUTH)).body.data, [], 'nothing was stored');
});

test('a status event reaches the merchant signed per Standard Webhooks; 500s are retried with backoff, a never-succeeding endpoint is disabled, a destination refused at send time is logged', async (t) => {
  const kafka = createKafka({ brokers: brokers().split(','), clientId: 'router-webhooks-test' });
  const h = await startRouter(t, {
    brokers: brokers(),
    kafka,
    settings: { webhooks: { allowPrivate: false, allowedHosts: ['127.0.0.1'], timeoutMs: 2000, backoff: { baseMs: 200, maxMs: 1000 }, disableAfterMs: 1500 } },
  });
  h.service.start();
  const good = await receiver(t, [500, 500, 204]);
  const bad = await receiver(t, [500]);

  const created = await call(h.url, 'POST', '/v1/webhooks', AUTH, { url: good.url, events: ['message.delivered', 'message.bounced'], description: 'orders' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const secret = String(created.body.secret);
  assert.match(secret, /^whsec_/);
  const endpointId = String(created.body.id);
  const listed = await call(h.url, 'GET', '/v1/webhooks', AUTH);
  assert.equal(JSON.stringify(listed.body).includes(secret), false, 'the secret is shown once, at creation');
  const failing = await call(h.url, 'POST', '/v1/webhooks', AUTH, { url: bad.url, events: ['message.delivered'] });
  assert.equal(failing.status, 201);
  // A destination that became private after creation (DNS changed): written directly, refused at send time.
  const [sneaky] = await h.db('webhook_endpoints').insert({ tenant_id: TEST_TENANT_ID, id: '11111111-1111-4111-8111-111111111111', url: 'http://127.0.0.2:9/hooks', events: ['message.delivered'], secret: 'whsec_' + Buffer.alloc(32, 1).toString('base64'), created_at: new Date() }).returning('id');

  const accepted = await postMessage(h.url, SAMPLES.email);
  assert.equal(accepted.status, 202);
  const messageId = String(accepted.body.id);
  const event: StatusEvent = { v: 1, id: messageId, tenantId: TEST_TENANT_ID, status: 'delivered', version: 7, deliveryAttempts: 1, lastAttemptedAt: new Date().toISOString(), at: new Date().toISOString() };
  await h.producer.connect();
  await h.producer.send({ topic: h.topics.status, acks: -1, messages: [{ key: messageId, value: JSON.stringify(event), headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } }] });

  await waitFor('three POSTs to the good endpoint', async () => good.got.length >= 3, 20_000);
  const ids = new Set(good.got.map((g) => g.headers['webhook-id']));
  assert.equal(ids.size, 1, 'every retry carries the same webhook-id');
  // Backoff with equal jitter: retry n waits at least half of 200 ms · 2^(n-1).
  assert.ok(good.got[1]!.at - good.got[0]!.at >= 100, `first retry after ${good.got[1]!.at - good.got[0]!.at} ms`);
  assert.ok(good.got[2]!.at - good.got[1]!.at >= 200, `second retry after ${good.got[2]!.at - good.got[1]!.at} ms`);
  const last = good.got[2]!;
  // Verified with the official standardwebhooks package, an implementation independent of ours.
  const payload = new Webhook(secret).verify(last.body, { 'webhook-id': String(last.headers['webhook-id']), 'webhook-timestamp': String(last.headers['webhook-timestamp']), 'webhook-signature': String(last.headers['webhook-signature']) }) as { type: string; data: { messageId: string; status: string } };
  assert.equal(payload.type, 'message.delivered');
  assert.equal(payload.data.messageId, messageId);
  assert.throws(() => new Webhook(secret).verify(last.body.replace('delivered', 'bounced'), { 'webhook-id': String(last.headers['webhook-id']), 'webhook-timestamp': String(last.headers['webhook-timestamp']), 'webhook-signature': String(last.headers['webhook-signature']) }));

  const log = await waitFor('delivery log of the good endpoint', async () => {
    const r = await call(h.url, 'GET', `/v1/webhooks/${endpointId}/deliveries`, AUTH);
    const data = r.body.data as Array<Record<string, unknown>>;
    return data.length >= 3 ? data : null;
  });
  assert.deepEqual(log.map((d) => [d.attempt, d.outcome, d.statusCode]).reverse(), [[1, 'failed', 500], [2, 'failed', 500], [3, 'delivered', 204]]);
  assert.ok(log.every((d) => typeof d.durationMs === 'number'));

  // The endpoint that never succeeds: disabled once it has failed for the whole failure period, then left alone.
  const disabled = await waitFor('failing endpoint disabled', async () => {
    const r = await call(h.url, 'GET', `/v1/webhooks/${String(failing.body.id)}`, AUTH);
    return r.body.disabled === true ? r.body : null;
  }, 20_000);
  assert.match(String(disabled.disabledReason), /failing since/);
  const posts = bad.got.length;
  assert.ok(posts >= 3, `retried before disabling (${posts} POSTs)`);

  const refusedLog = await waitFor('send-time refusal logged', async () => {
    const rows = await h.db('webhook_deliveries').where({ endpoint_id: sneaky.id ?? sneaky });
    return rows.length > 0 ? rows : null;
  });
  assert.equal(refusedLog[0].outcome, 'refused');
  assert.match(String(refusedLog[0].error), /loopback/);

  // Deleting an endpoint removes it and its log; another merchant never sees it.
  assert.equal((await call(h.url, 'DELETE', `/v1/webhooks/${endpointId}`, AUTH)).status, 204);
  assert.equal((await call(h.url, 'GET', `/v1/webhooks/${endpointId}`, AUTH)).status, 404);
  assert.equal(bad.got.length, posts, 'no POST after the endpoint was disabled');
});
