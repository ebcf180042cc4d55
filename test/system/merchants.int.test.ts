import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { startSystem, waitFor } from '@ca/testing';

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string; subject?: string }

/** HTTPS to the self-signed local certificate (trusted for this call only). */
function httpsCall(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, rejectUnauthorized: false }, (res) => {
      const cn = (res.socket as TLSSocket).getPeerCertificate().subject?.CN;
      const subject = Array.isArray(cn) ? cn.join(',') : cn;
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, subject }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('npm start: HTTPS with a self-signed certificate, keys everywhere, internal endpoints closed, no secret in logs or traces', async (t) => {
  const system = await startSystem({ database: 'comm_aggregator_merchants', env: { KAFKA_TOPIC_PREFIX: `mer.${randomUUID().slice(0, 8)}.` } });
  t.after(() => system.stop());
  const auth = { authorization: `Bearer ${system.apiKey}` };

  const sent = await httpsCall(`${system.urls.routerHttps}/v1/messages`, 'POST', { ...auth, 'content-type': 'application/json' },
    JSON.stringify({ channel: 'sms', to: '+14155550123', body: `over TLS ${randomUUID()}` }));
  assert.equal(sent.status, 202, sent.body);
  assert.equal(sent.subject, 'localhost');
  assert.match(String(sent.headers['strict-transport-security']), /^max-age=\d+/);
  assert.match(String(sent.headers.ratelimit), /^"per-key";r=\d+;t=\d+$/);
  const { id, traceId } = JSON.parse(sent.body) as { id: string; traceId: string };

  assert.equal((await fetch(`${system.urls.router}/v1/messages/${id}`)).status, 401, 'no key, no status');
  assert.equal((await fetch(`${system.urls.delivery}/internal/v1/messages/${id}`)).status, 401, 'internal API needs SERVICE_TOKEN');
  const forged = await fetch(`${system.urls.logging}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceSpans":[]}' });
  assert.equal(forged.status, 401, 'OTLP intake needs SERVICE_TOKEN');
  assert.equal((await fetch(`${system.urls.logging}/v1/traces/${traceId}`)).status, 401, 'trace API needs a key');

  const trace = await waitFor('the keyed request\'s trace', async () => {
    const r = await fetch(`${system.urls.logging}/v1/traces/${traceId}`, { headers: auth });
    if (r.status !== 200) return null;
    const text = await r.text();
    const view = JSON.parse(text) as { services: string[] };
    return view.services.includes('delivery-service') ? text : null;
  }, 30_000, 200);
  assert.ok(trace.includes('"ca.tenant.id"'), 'spans carry the tenant');
  const secret = system.apiKey.slice(8);
  assert.equal(trace.includes(secret), false, 'the key is not in the trace');
  assert.equal(system.output().includes(secret), false, 'the key is not in any log line');
});
