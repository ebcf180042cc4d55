import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest, createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { useBroker } from '../support/kafka';
import { AUTH, call, defer, postMessage, SAMPLES, startRouter } from '../support/router-harness';

const brokers = useBroker();
const transport = { httpsOnly: true, httpsPort: 8443, hstsMaxAgeSeconds: 600 };

async function serveTls(t: TestContext, app: import('express').Express): Promise<{ port: number; ca: string }> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048, algorithm: 'sha256', extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  const server = createHttpsServer({ cert: pems.cert, key: pems.private }, app).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  defer(t, () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return { port: (server.address() as AddressInfo).port, ca: pems.cert };
}

function tlsPost(port: number, ca: string, body: unknown): Promise<{ status: number; headers: Record<string, unknown>; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: '127.0.0.1', port, path: '/v1/messages', method: 'POST', ca, servername: 'localhost',
      headers: { ...AUTH, 'content-type': 'application/json' },
    }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

test('HTTPS_ONLY: a plain-HTTP API request is refused (no redirect) with a problem naming the HTTPS URL; probes stay open', async (t) => {
  const h = await startRouter(t, { brokers: brokers(), settings: { transport } });
  const res = await postMessage(h.url, SAMPLES.email);
  assert.equal(res.status, 403);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(res.body.code, 'HTTPS_REQUIRED');
  assert.equal(res.body.httpsUrl, 'https://127.0.0.1:8443/v1/messages');
  assert.equal(res.headers.get('location'), null);
  assert.equal(res.headers.get('strict-transport-security'), null);
  assert.equal(await h.db('messages').count<{ n: string }>('* as n').first().then((r) => Number(r?.n)), 0);
  assert.equal((await fetch(`${h.url}/health`)).status, 200);
});

test('over TLS the same app accepts the request and answers with HSTS', async (t) => {
  const h = await startRouter(t, { brokers: brokers(), settings: { transport } });
  const tls = await serveTls(t, h.service.app);
  const res = await tlsPost(tls.port, tls.ca, SAMPLES.sms);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal(res.headers['strict-transport-security'], 'max-age=600; includeSubDomains');
});

test('X-Forwarded-Proto counts only from a trusted proxy', async (t) => {
  const untrusted = await startRouter(t, { brokers: brokers(), settings: { transport, trustProxy: false } });
  const forged = await call(untrusted.url, 'GET', '/v1/messages/00000000-0000-4000-8000-000000000000', { ...AUTH, 'x-forwarded-proto': 'https' });
  assert.equal(forged.status, 403);
  assert.equal(forged.body.code, 'HTTPS_REQUIRED');

  const behindProxy = await startRouter(t, { brokers: brokers(), settings: { transport, trustProxy: ['loopback'] } });
  const proxied = await call(behindProxy.url, 'GET', '/v1/messages/00000000-0000-4000-8000-000000000000', { ...AUTH, 'x-forwarded-proto': 'https' });
  assert.equal(proxied.status, 404);
  assert.equal(proxied.headers.get('strict-transport-security'), 'max-age=600; includeSubDomains');
});
