import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServiceApp, sealServiceApp } from '@ca/http';
import { FAULT, createFaults, faultsAdminRouter } from '../src';

const TOKEN = 'admin-token-0123456789';
const quiet = { warn: () => undefined, error: () => undefined, info: () => undefined, debug: () => undefined };

async function start(t: TestContext, token: string | null) {
  const faults = createFaults({ 'provider.outage': 0.5 });
  const warnings: string[] = [];
  const app = createServiceApp();
  const supported = [FAULT.providerOutage, FAULT.providerLatency, FAULT.brokerPublishFailure, FAULT.postgresLatency];
  app.use(faultsAdminRouter({ faults, token, supported, logger: { warn: (m) => warnings.push(m) } }));
  sealServiceApp(app, quiet);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/faults`, faults, warnings };
}

const auth = (token = TOKEN) => ({ authorization: `Bearer ${token}` });
const json = { 'content-type': 'application/json' };

test('without ADMIN_TOKEN the endpoint does not exist', async (t) => {
  const s = await start(t, null);
  for (const method of ['GET', 'PUT', 'DELETE']) {
    const res = await fetch(s.url, { method, headers: auth() });
    assert.equal(res.status, 404, method);
  }
  assert.deepEqual(s.faults.current(), { 'provider.outage': 0.5 });
});

test('a missing or wrong bearer gets 401 problem+json and changes nothing', async (t) => {
  const s = await start(t, TOKEN);
  for (const headers of [{}, auth('wrong-token-0123456789'), { authorization: TOKEN }]) {
    const res = await fetch(s.url, { method: 'DELETE', headers });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal(((await res.json()) as { code: string }).code, 'ADMIN_UNAUTHORIZED');
  }
  assert.deepEqual(s.faults.current(), { 'provider.outage': 0.5 });
});

test('GET shows the set, PUT replaces it, DELETE clears it; each change is logged', async (t) => {
  const s = await start(t, TOKEN);
  assert.deepEqual(await (await fetch(s.url, { headers: auth() })).json(), { faults: { 'provider.outage': 0.5 }, supported: ['provider.outage', 'provider.latency_ms', 'broker.publish_failure', 'postgres.latency_ms'] });
  const put = await fetch(s.url, { method: 'PUT', headers: { ...auth(), ...json }, body: JSON.stringify({ 'broker.publish_failure': 1, 'provider.latency_ms.sms': 300, 'logging.down': false }) });
  assert.equal(put.status, 200);
  assert.deepEqual(((await put.json()) as { faults: unknown }).faults, { 'broker.publish_failure': 1, 'provider.latency_ms.sms': 300 });
  assert.deepEqual(s.faults.current(), { 'broker.publish_failure': 1, 'provider.latency_ms.sms': 300 });
  const del = await fetch(s.url, { method: 'DELETE', headers: auth() });
  assert.equal(del.status, 204);
  assert.deepEqual(s.faults.current(), {});
  assert.deepEqual(s.warnings, ['injected faults changed', 'injected faults cleared']);
});

test('an invalid PUT is 400 FAULTS_INVALID naming every bad field, and the set in force stays', async (t) => {
  const s = await start(t, TOKEN);
  const res = await fetch(s.url, { method: 'PUT', headers: { ...auth(), ...json }, body: JSON.stringify({ 'provider.outage': 2, 'postgres.latency_ms': -5, 'kafka.down': true }) });
  assert.equal(res.status, 400);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = (await res.json()) as { code: string; errors: Array<{ field: string }> };
  assert.equal(body.code, 'FAULTS_INVALID');
  assert.deepEqual(body.errors.map((e) => e.field).sort(), ['kafka.down', 'postgres.latency_ms', 'provider.outage']);
  const notJson = await fetch(s.url, { method: 'PUT', headers: { ...auth(), 'content-type': 'text/plain' }, body: 'provider.outage=1' });
  assert.equal(notJson.status, 400);
  assert.equal(((await notJson.json()) as { code: string }).code, 'FAULTS_INVALID');
  const malformed = await fetch(s.url, { method: 'PUT', headers: { ...auth(), ...json }, body: '{"provider.outage":' });
  assert.equal(malformed.status, 400);
  assert.deepEqual(s.faults.current(), { 'provider.outage': 0.5 });
  const elsewhere = await fetch(s.url, { method: 'PUT', headers: { ...auth(), ...json }, body: JSON.stringify({ 'logging.down': true, 'provider.outage': 1 }) });
  assert.equal(elsewhere.status, 400, 'a switch this service does not act on is refused, not silently kept');
  assert.deepEqual(((await elsewhere.json()) as { errors: Array<{ field: string; type: string }> }).errors, [{ field: 'logging.down', type: 'fault.unsupported', message: '"logging.down" has no effect on this service, which takes provider.outage, provider.latency_ms, broker.publish_failure, postgres.latency_ms' }]);
  assert.deepEqual(s.faults.current(), { 'provider.outage': 0.5 });
  const post = await fetch(s.url, { method: 'POST', headers: auth() });
  assert.equal(post.status, 405);
});
