import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildLoggingService } from '../../src/app';
import { createPostgresStore } from '../../src/sinks/postgres-store';
import type { LogView, TraceView } from '../../src/traces/trace-view';
import { IDS, kv, logsRequest, resource, span, traceRequest } from '../fixtures/otlp-fixtures';
import { documentedListener, JSON_TYPE, LIMITS, silentLogger, TEST_DATABASE_URL } from '../helpers';

const SERVICE_TOKEN = 'service-token-for-tests-0123456789';
const TENANT_A = randomUUID();
const TENANT_B = randomUUID();
const KEYS: Record<string, { tenantId: string; scopes: string[] }> = {
  'ca_live_keyOfMerchantA_0123456789abcdef': { tenantId: TENANT_A, scopes: ['read'] },
  'ca_live_keyOfMerchantB_0123456789abcdef': { tenantId: TENANT_B, scopes: ['read', 'send'] },
  'ca_live_sendOnlyKeyOfB_0123456789abcdef': { tenantId: TENANT_B, scopes: ['send'] },
};
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const keyA = bearer('ca_live_keyOfMerchantA_0123456789abcdef');
const keyB = bearer('ca_live_keyOfMerchantB_0123456789abcdef');
const sendOnlyB = bearer('ca_live_sendOnlyKeyOfB_0123456789abcdef');
const operator = bearer(SERVICE_TOKEN);

test('traces and logs: intake needs SERVICE_TOKEN; merchants read only their own spans, even on a shared trace id', async (t) => {
  const schema = `t_${randomUUID().slice(0, 8)}`;
  const store = createPostgresStore({ url: TEST_DATABASE_URL, schema, retryAfterSeconds: 7 });
  const service = buildLoggingService({
    store, logger: silentLogger(), limits: LIMITS, serviceToken: SERVICE_TOKEN,
    access: { read: { serviceToken: SERVICE_TOKEN, verifyKey: async (key) => KEYS[key] ?? null }, htmlViewOpen: false },
  });
  await service.start();
  const documented = documentedListener(service.app);
  const server = createServer(documented.listener).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    await service.close();
    documented.verdict();
  });
  const post = (path: string, body: unknown, headers: Record<string, string>) => fetch(url + path, { method: 'POST', body: JSON.stringify(body), headers: { ...JSON_TYPE, ...headers } });
  const get = async (path: string, headers: Record<string, string>) => {
    const res = await fetch(url + path, { headers });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };

  // Merchant A's journey, and merchant B reusing A's trace id in its own traceparent.
  const traceId = randomBytes(16).toString('hex');
  const journey = traceRequest(traceId) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ attributes: unknown[] }> }> }> };
  journey.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes.push(kv('ca.tenant.id', TENANT_A));
  const intruder = { resourceSpans: [{ resource: resource('router-service'), scopeSpans: [{ scope: { name: 'test' }, spans: [
    span({ id: 'bbbbbbbbbbbb0001', parent: IDS.server, name: 'POST /v1/messages', kind: 2, from: 1, to: 3, traceId, attributes: { 'ca.tenant.id': TENANT_B } }),
    span({ id: 'bbbbbbbbbbbb0002', parent: 'bbbbbbbbbbbb0001', name: 'pg.query', kind: 3, from: 1.5, to: 2, traceId }),
    span({ id: 'cccccccccccc0001', name: 'POST /v1/messages (401)', kind: 2, from: 4, to: 5, traceId }),
  ] }] }] };

  await t.test('the OTLP intake refuses exports without the service token: forged spans never land', async () => {
    for (const headers of [{}, bearer('guessed-token-0123456789'), keyA]) {
      const res = await post('/v1/traces', journey, headers);
      assert.equal(res.status, 401);
      assert.equal((await post('/v1/logs', logsRequest(traceId), headers)).status, 401);
    }
    assert.equal((await get(`/v1/traces/${traceId}`, operator)).status, 404);
    assert.equal((await post('/v1/traces', journey, operator)).status, 200);
    assert.equal((await post('/v1/traces', intruder, operator)).status, 200);
    assert.equal((await post('/v1/logs', logsRequest(traceId), operator)).status, 200);
  });

  await t.test('reads need a read key (401 without, 403 without the scope)', async () => {
    const none = await get(`/v1/traces/${traceId}`, {});
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal((await get(`/v1/traces/${traceId}`, bearer('ca_live_unknownKey_0123456789abcdef'))).status, 401);
    assert.equal((await get(`/v1/traces/${traceId}`, sendOnlyB)).status, 403);
    assert.equal((await get('/v1/logs', {})).status, 401);
    assert.equal((await fetch(`${url}/traces/${traceId}`)).status, 401, 'the HTML view is closed off loopback');
  });

  await t.test('each merchant sees only its half of the shared trace id; the operator sees all', async () => {
    const a = (await get(`/v1/traces/${traceId}`, keyA)).body as unknown as TraceView;
    assert.deepEqual(a.spans.map((s) => s.spanId).sort(), Object.values(IDS).sort(), 'A: its request and everything that descends from it');
    const b = (await get(`/v1/traces/${traceId}`, keyB)).body as unknown as TraceView;
    assert.deepEqual(b.spans.map((s) => s.spanId).sort(), ['bbbbbbbbbbbb0001', 'bbbbbbbbbbbb0002']);
    const all = (await get(`/v1/traces/${traceId}`, operator)).body as unknown as TraceView;
    assert.equal(all.spans.length, Object.values(IDS).length + 3);
    const unknown = await get(`/v1/traces/${randomBytes(16).toString('hex')}`, keyB);
    assert.equal(unknown.status, 404);
  });

  await t.test('log search: a merchant must name a trace and gets only lines on its own spans', async () => {
    const unfiltered = await get('/v1/logs', keyA);
    assert.equal(unfiltered.status, 400);
    const a = (await get(`/v1/logs?traceId=${traceId}`, keyA)).body.logs as LogView[];
    const ofTrace = (await get(`/v1/logs?traceId=${traceId}`, operator)).body.logs as LogView[];
    assert.ok(a.length >= 3);
    assert.equal(a.length, ofTrace.length, 'every line of this trace is on one of A\'s spans');
    const b = (await get(`/v1/logs?traceId=${traceId}`, keyB)).body.logs as LogView[];
    assert.equal(b.length, 0);
    const all = (await get('/v1/logs', operator)).body.logs as LogView[];
    assert.ok(all.length >= 3);
  });
});
