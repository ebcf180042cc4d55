import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { DEFAULT_INSTRUMENTATIONS } from '@ca/telemetry/src/instrumentations';
import { startTelemetry } from '@ca/telemetry/start';

// As in main.ts: the SDK patches http/undici, express, pg and winston before they load.
process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS = `${DEFAULT_INSTRUMENTATIONS},undici`;
const exporter = new InMemorySpanExporter();
const telemetry = startTelemetry({ serviceName: 'delivery-service', serviceVersion: 'test', environment: 'test', otlpEndpoint: '', spanExporter: exporter, batch: { maxQueueSize: 8192, maxExportBatchSize: 512, scheduledDelayMillis: 50 } });
const { createLogger } = require('@ca/telemetry') as typeof import('@ca/telemetry');
const { waitFor } = require('@ca/testing') as typeof import('@ca/testing');
const { getStatus, SERVICE_AUTH, startDelivery } = require('../harness') as typeof import('../harness');
const { startTwilioFake, TWILIO_INVALID_TO } = require('./fakes/twilio-fake') as typeof import('./fakes/twilio-fake');

test('provider credentials are stored encrypted and never appear in a log line, a span, or an API response', async (t) => {
  t.after(() => telemetry.shutdown());
  const stream = new PassThrough();
  let logs = '';
  stream.on('data', (c: Buffer) => { logs += c.toString(); });
  const h = await startDelivery({ logger: createLogger({ service: 'delivery-service', level: 'debug', stream }) });
  t.after(() => h.close());
  const twilio = await startTwilioFake();
  t.after(() => twilio.close());
  await h.startConsuming();

  const tenantId = randomUUID();
  const put = await fetch(`${h.url}/internal/v1/tenants/${tenantId}/providers/sms`, {
    method: 'PUT',
    headers: { ...SERVICE_AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ providers: [{ name: 'twilio', kind: 'twilio', settings: { accountSid: twilio.accountSid, from: '+15005550006', baseUrl: twilio.url }, credentials: { authToken: twilio.authToken } }] }),
  });
  const putText = await put.text();
  assert.equal(put.status, 200, putText);

  const ok = await h.send('sms', '+14155550100', { tenantId });
  const bad = await h.send('sms', TWILIO_INVALID_TO, { tenantId });
  for (const [id, status] of [[ok.id, 'sent'], [bad.id, 'failed']] as const) {
    await waitFor(`${id} ${status}`, async () => (await getStatus(h, id)).body.status === status, 20_000);
  }
  assert.ok(twilio.requests.length >= 2 && twilio.requests.every((r) => r.authorized), 'the token was used to authenticate');
  const basic = Buffer.from(`${twilio.accountSid}:${twilio.authToken}`).toString('base64');

  const row = await h.db('provider_configs').where({ tenant_id: tenantId }).first();
  assert.match(row.credentials_sealed, /^v1\./);
  const rowText = JSON.stringify(row);
  const listed = await fetch(`${h.url}/internal/v1/tenants/${tenantId}/providers`, { headers: SERVICE_AUTH }).then((r) => r.text());
  assert.match(listed, /"credentialsSet":true/);

  await telemetry.forceFlush();
  const spans = exporter.getFinishedSpans();
  assert.ok(spans.some((s) => s.name === 'provider.send'), 'provider spans were recorded');
  assert.ok(spans.some((s) => s.kind === 2 && String(s.attributes['url.full'] ?? s.attributes['http.url'] ?? '').startsWith(twilio.url)), 'the provider call has an HTTP client span');
  const spanText = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status })));
  assert.ok(logs.length > 0, 'debug logs were captured');
  for (const [where, text] of [['the database row', rowText], ['the PUT response', putText], ['the GET response', listed], ['the log lines', logs], ['the spans', spanText]] as const) {
    assert.equal(text.includes(twilio.authToken), false, `auth token in ${where}`);
    assert.equal(text.includes(basic), false, `basic credentials in ${where}`);
  }
});
