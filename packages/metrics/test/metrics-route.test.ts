import test from 'node:test';
import assert from 'node:assert/strict';
import { createRouterMetrics } from '../src';
import { prometheusHarness, sample } from './support';

test('without METRICS_TOKEN a loopback scraper gets the text format', async (t) => {
  const h = await prometheusHarness({ token: null });
  t.after(() => h.close());
  createRouterMetrics({ meter: h.meter }).recordAccepted({ channel: 'push' });
  const res = await fetch(h.url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  assert.equal(sample(await res.text(), 'ca_router_messages_accepted_total', { channel: 'push', tenant: 'none' }), 1);
});

test('with METRICS_TOKEN a scrape needs the Bearer token: 401 problem+json without or with a wrong one', async (t) => {
  const token = 'metrics-token-0123456789';
  const h = await prometheusHarness({ token });
  t.after(() => h.close());
  for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: token }]) {
    const res = await fetch(h.url, { headers });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="metrics"');
    assert.equal(((await res.json()) as { code: string }).code, 'METRICS_UNAUTHORIZED');
  }
  const ok = await fetch(h.url, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(ok.status, 200);
  await ok.text();
});

test('X-Forwarded-For cannot make a remote scraper look local, nor a local one remote', async (t) => {
  const h = await prometheusHarness({ token: null });
  t.after(() => h.close());
  const res = await fetch(h.url, { headers: { 'x-forwarded-for': '203.0.113.9' } });
  assert.equal(res.status, 200); // the socket peer (127.0.0.1) decides, not the header
  await res.text();
});
