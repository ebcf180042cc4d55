import test from 'node:test';
import { networkInterfaces } from 'node:os';
import assert from 'node:assert/strict';
import { createServiceApp, sealServiceApp } from '@ca/http';
import { createLogger } from '@ca/telemetry';
import { createMetricsExport, createRouterMetrics, metricsRoute, parseMetricsExporters } from '../src';
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

test('the socket peer decides, not X-Forwarded-For', async (t) => {
  const h = await prometheusHarness({ token: null });
  t.after(() => h.close());
  const res = await fetch(h.url, { headers: { 'x-forwarded-for': '203.0.113.9' } });
  assert.equal(res.status, 200); // the socket peer (127.0.0.1) decides, not the header
  await res.text();
});

test('OTEL_METRICS_EXPORTER: none means no reader at all; otlp needs an endpoint; both can run together', async () => {
  const none = createMetricsExport({ exporters: parseMetricsExporters('none'), otlpEndpoint: 'http://collector:4318', exportIntervalMs: 60_000 });
  assert.deepEqual(none, { readers: [], prometheus: null });
  const noEndpoint = createMetricsExport({ exporters: parseMetricsExporters('otlp'), otlpEndpoint: '', exportIntervalMs: 60_000 });
  assert.equal(noEndpoint.readers.length, 0);
  const both = createMetricsExport({ exporters: parseMetricsExporters(' prometheus , otlp '), otlpEndpoint: 'http://collector:4318/', exportIntervalMs: 60_000 });
  assert.equal(both.readers.length, 2);
  assert.ok(both.prometheus);
  await Promise.all(both.readers.map((r) => r.shutdown().catch(() => undefined)));
});

test('metrics off: the route answers nothing (404 from the app)', async (t) => {
  const app = createServiceApp();
  app.use(metricsRoute(null, { token: null }));
  sealServiceApp(app, createLogger({ service: 'metrics-test', level: 'error' }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`);
  assert.equal(res.status, 404);
  await res.text();
});

test('without METRICS_TOKEN a scraper from another address gets 403 METRICS_LOOPBACK_ONLY, whatever X-Forwarded-For says', async (t) => {
  // This host's own non-loopback address: the request leaves through it, so the peer is not 127.0.0.1.
  const external = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  if (!external) return t.skip('this host has no non-loopback IPv4 address');
  const h = await prometheusHarness({ token: null }, '0.0.0.0');
  t.after(() => h.close());
  const res = await fetch(h.url.replace('127.0.0.1', external), { headers: { 'x-forwarded-for': '127.0.0.1' } });
  assert.equal(res.status, 403);
  assert.equal(((await res.json()) as { code: string }).code, 'METRICS_LOOPBACK_ONLY');
});
