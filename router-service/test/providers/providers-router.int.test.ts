import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '@ca/testing';
import { useBroker } from '../support/kafka';
import { call, defer, startRouter, testMerchant } from '../support/router-harness';

const brokers = useBroker();
const SERVICE_TOKEN = 'service-token-0123456789';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const NOW = '2030-01-01T00:00:00.000Z';

/** What delivery-service's internal API answers (delivery-service/src/api), in its real shapes. */
function deliveryAnswer(method: string, path: string): [number, unknown] {
  const id = /\/dead-letters\/([^/]+)/.exec(path)?.[1] ?? '';
  if (path.endsWith('/suppressions')) return [200, { items: [{ channel: 'sms', recipient: '+15005550001', reason: 'twilio 400 21211', provider: 'twilio', messageId: null, createdAt: NOW }] }];
  if (method === 'PUT') return [200, { channel: 'sms', mode: 'ordered', providers: [{ name: 'twilio', kind: 'twilio', weight: 1, settings: { accountSid: `AC${'1'.repeat(32)}`, from: '+15005550006' }, credentialsSet: true, updatedAt: NOW }] }];
  if (path.endsWith('/providers')) return [200, { routes: [] }];
  if (path.endsWith('/redrive')) return [202, { id, status: 'retrying', redriven: true, redrives: 1, traceId: TRACE_ID }];
  if (path.endsWith('/dead-letters')) return [200, { items: [] }];
  return [200, { id, channel: 'sms', to: '+1500***0001', status: 'dead_lettered', errorMessage: 'twilio 400 21211', deliveryAttempts: 1, redrives: 0, traceId: TRACE_ID, deadLetteredAt: NOW }];
}

/** A stand-in delivery-service internal API recording what the router forwarded. */
async function fakeDelivery(t: TestContext) {
  const seen: Array<{ method: string; path: string; body: string; authorization: string | undefined }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', body, authorization: req.headers.authorization });
      if (req.method === 'PUT' && body.includes('"bad"')) {
        res.writeHead(400, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ type: 'https://github.com/communication-aggregator/docs/errors#invalid_provider_route', title: 'Invalid provider route', status: 400, code: 'INVALID_PROVIDER_ROUTE', errors: [{ field: 'providers.0.kind', message: 'bad' }] }));
        return;
      }
      if (req.method === 'DELETE') { res.writeHead(204).end(); return; }
      const [status, answer] = deliveryAnswer(req.method ?? '', (req.url ?? '').split('?')[0]!);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  defer(t, () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

test('/v1/suppressions and /v1/providers forward to delivery-service for the caller\'s tenant, with scopes', async (t) => {
  const delivery = await fakeDelivery(t);
  const h = await startRouter(t, { brokers: brokers(), settings: { deliveryUrl: delivery.url, serviceToken: SERVICE_TOKEN } });
  const admin = await testMerchant(h.db, ['send', 'read', 'admin']);
  const reader = await testMerchant(h.db, ['read']);

  const list = await call(h.url, 'GET', '/v1/suppressions?channel=sms&limit=5&tenant=someone-else', reader.headers);
  assert.equal(list.status, 200);
  assert.deepEqual((list.body.items as Array<{ recipient: string }>).map((i) => i.recipient), ['+15005550001']);
  assert.equal(delivery.seen.at(-1)?.path, `/internal/v1/tenants/${reader.tenantId}/suppressions?channel=sms&limit=5`);
  assert.equal(delivery.seen.at(-1)?.authorization, `Bearer ${SERVICE_TOKEN}`);

  const forbidden = await call(h.url, 'DELETE', '/v1/suppressions/sms/%2B15005550001', reader.headers);
  assert.equal(forbidden.status, 403);
  const lifted = await call(h.url, 'DELETE', '/v1/suppressions/sms/%2B15005550001', admin.headers);
  assert.equal(lifted.status, 204);
  assert.equal(delivery.seen.at(-1)?.path, `/internal/v1/tenants/${admin.tenantId}/suppressions/sms/%2B15005550001`);

  const route = { providers: [{ name: 'twilio', kind: 'twilio', settings: { accountSid: `AC${'1'.repeat(32)}`, from: '+15005550006' }, credentials: { authToken: 'tok' } }] };
  const put = await call(h.url, 'PUT', '/v1/providers/sms', admin.headers, route);
  assert.equal(put.status, 200);
  assert.deepEqual(JSON.parse(delivery.seen.at(-1)!.body), route);
  const bad = await call(h.url, 'PUT', '/v1/providers/sms', admin.headers, { providers: [{ name: 'bad' }] });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'INVALID_PROVIDER_ROUTE', 'delivery-service\'s problem is relayed');
  assert.equal((await call(h.url, 'PUT', '/v1/providers/sms', reader.headers, route)).status, 403);

  const id = '0b6f2d3c-7a55-4c1e-9f3e-2f1c6f7f1a10';
  assert.equal((await call(h.url, 'GET', '/v1/dead-letters?limit=3', reader.headers)).status, 200);
  assert.equal(delivery.seen.at(-1)?.path, `/internal/v1/tenants/${reader.tenantId}/dead-letters?limit=3`);
  assert.equal((await call(h.url, 'POST', `/v1/dead-letters/${id}/redrive`, reader.headers)).status, 403, 'a read key cannot re-drive');
  assert.equal((await call(h.url, 'GET', `/v1/dead-letters/${id}`, reader.headers)).body.status, 'dead_lettered');
  assert.deepEqual((await call(h.url, 'GET', '/v1/providers', admin.headers)).body, { routes: [] });
  const redriven = await call(h.url, 'POST', `/v1/dead-letters/${id}/redrive`, admin.headers);
  assert.equal(redriven.status, 202, 'delivery-service\'s status is relayed');
  assert.equal(redriven.body.redriven, true);
  assert.deepEqual(delivery.seen.at(-1) && { method: delivery.seen.at(-1)!.method, path: delivery.seen.at(-1)!.path }, { method: 'POST', path: `/internal/v1/tenants/${admin.tenantId}/dead-letters/${id}/redrive` });
});

test('delivery-service unreachable: 503 DELIVERY_UNAVAILABLE with Retry-After', async (t) => {
  const h = await startRouter(t, { brokers: brokers(), settings: { deliveryUrl: `http://127.0.0.1:${await freePort()}` } });
  const m = await testMerchant(h.db, ['read']);
  const res = await call(h.url, 'GET', '/v1/suppressions', m.headers);
  assert.equal(res.status, 503);
  assert.equal(res.body.code, 'DELIVERY_UNAVAILABLE');
  assert.equal(res.headers.get('retry-after'), '5');
});
