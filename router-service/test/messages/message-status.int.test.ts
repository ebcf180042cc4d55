import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DeliveryStatusView, MessageView } from '@ca/contracts';
import { useBroker } from '../support/kafka';
import { AUTH, defer, postMessage, SAMPLES, startRouter } from '../support/router-harness';

const brokers = useBroker();

/** A stand-in delivery-service: a real HTTP server on port 0 answering from `answer`. */
async function fakeDelivery(t: TestContext, answer: (id: string) => { status: number; body?: unknown; delayMs?: number }) {
  const seen: Array<{ path: string; traceparent: string | undefined; authorization: string | undefined }> = [];
  const server: Server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', traceparent: req.headers.traceparent as string | undefined, authorization: req.headers.authorization });
    const id = (req.url ?? '').split('/').pop() ?? '';
    const a = answer(id);
    setTimeout(() => {
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(a.body === undefined ? '' : JSON.stringify(a.body));
    }, a.delayMs ?? 0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  defer(t, () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function delivered(id: string): DeliveryStatusView {
  return {
    id, status: 'sent', deliveryAttempts: 2, lastAttemptedAt: '2030-01-01T00:00:05.000Z', nextAttemptAt: null,
    errorMessage: null, providerMessageId: 'prov-1',
    attempts: [
      { n: 1, at: '2030-01-01T00:00:01.000Z', outcome: 'transient_failure', error: 'mailbox +14155550100 busy', backoffMs: 1000 },
      { n: 2, at: '2030-01-01T00:00:05.000Z', outcome: 'sent', error: null, backoffMs: null },
    ],
  };
}

async function getView(url: string, id: string) {
  const res = await fetch(`${url}/v1/messages/${id}`, { headers: AUTH });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

test('composes the router row with delivery-service status; `to` is masked', async (t) => {
  const delivery = await fakeDelivery(t, (id) => ({ status: 200, body: delivered(id) }));
  const h = await startRouter(t, { brokers: brokers(), settings: { deliveryUrl: delivery.url, serviceToken: 'service-token-0123456789' } });
  const accepted = await postMessage(h.url, { ...SAMPLES.email, priority: 'high', correlationId: 'c-1' });
  const { id, traceId } = accepted.body as { id: string; traceId: string };

  const res = await getView(h.url, id);
  assert.equal(res.status, 200);
  const view = res.body as unknown as MessageView;
  assert.equal(view.id, id);
  assert.equal(view.channel, 'email');
  assert.equal(view.to, 'j***e@example.com');
  assert.equal(view.status, 'sent');
  assert.equal(view.priority, 'high');
  assert.equal(view.correlationId, 'c-1');
  assert.match(view.createdAt, /^\d{4}-\d{2}-\d{2}T/);
  assert.equal(view.deliveryAttempts, 2);
  assert.equal(view.lastAttemptedAt, '2030-01-01T00:00:05.000Z');
  assert.equal(view.errorMessage, null);
  assert.equal(view.attempts.length, 2);
  assert.equal(view.attempts[0]?.error, 'mailbox +141*****100 busy');
  assert.equal(view.traceId, traceId);
  assert.deepEqual(view.links, { self: `/v1/messages/${id}`, trace: `http://traces.test/traces/${traceId}` });
  assert.equal(JSON.stringify(view).includes(SAMPLES.email.to), false);
  assert.equal(delivery.seen[0]?.path, `/internal/v1/messages/${id}`);
  assert.equal(delivery.seen[0]?.authorization, 'Bearer service-token-0123456789', 'delivery-service is called with SERVICE_TOKEN');
});

test('delivery-service has no record yet (404): status pending, no attempts', async (t) => {
  const delivery = await fakeDelivery(t, () => ({ status: 404, body: { code: 'NOT_FOUND' } }));
  const h = await startRouter(t, { brokers: brokers(), settings: { deliveryUrl: delivery.url } });
  const { id } = (await postMessage(h.url, SAMPLES.sms)).body as { id: string };
  const res = await getView(h.url, id);
  assert.equal(res.status, 200);
  assert.equal(res.body.status, 'pending');
  assert.deepEqual(res.body.attempts, []);
  assert.equal(res.body.deliveryAttempts, 0);
  assert.equal(res.body.to, '+141*****100');
});

test('delivery-service unreachable, slow or failing: 503 STATUS_UNAVAILABLE with Retry-After', async (t) => {
  const slow = await fakeDelivery(t, (id) => ({ status: 200, body: delivered(id), delayMs: 1000 }));
  const failing = await fakeDelivery(t, () => ({ status: 500, body: { code: 'INTERNAL' } }));
  for (const deliveryUrl of ['http://127.0.0.1:1', slow.url, failing.url]) {
    const h = await startRouter(t, { brokers: brokers(), settings: { deliveryUrl, deliveryTimeoutMs: 200 } });
    const { id } = (await postMessage(h.url, SAMPLES.push)).body as { id: string };
    const res = await getView(h.url, id);
    assert.equal(res.status, 503, deliveryUrl);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(res.body.code, 'STATUS_UNAVAILABLE');
    assert.ok(Number(res.headers.get('retry-after')) > 0);
  }
});

test('unknown id is 404 MESSAGE_NOT_FOUND without asking delivery-service', async (t) => {
  const delivery = await fakeDelivery(t, (id) => ({ status: 200, body: delivered(id) }));
  const h = await startRouter(t, { brokers: brokers(), settings: { deliveryUrl: delivery.url } });
  const res = await getView(h.url, '3f1c2b9e-8d4a-4c7b-9e2f-1a2b3c4d5e6f');
  assert.equal(res.status, 404);
  assert.equal(res.body.code, 'MESSAGE_NOT_FOUND');
  assert.equal(delivery.seen.length, 0);
});
