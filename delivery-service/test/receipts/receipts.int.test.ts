import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { DEFAULT_INSTRUMENTATIONS } from '@ca/telemetry/src/instrumentations';
import { startTelemetry } from '@ca/telemetry/start';

// As in main.ts: the SDK starts before express, pg and http are loaded.
process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS = DEFAULT_INSTRUMENTATIONS;
const exporter = new InMemorySpanExporter();
const telemetry = startTelemetry({ serviceName: 'delivery-service', serviceVersion: 'test', environment: 'test', otlpEndpoint: '', spanExporter: exporter, batch: { maxQueueSize: 8192, maxExportBatchSize: 512, scheduledDelayMillis: 50 } });
const { createLogger } = require('@ca/telemetry') as typeof import('@ca/telemetry');
const { migrate } = require('@ca/postgres') as typeof import('@ca/postgres');
const { readTopics, testSchema, waitFor } = require('@ca/testing') as typeof import('@ca/testing');
const { parseStatusEvent, SPAN, ATTR } = require('@ca/contracts') as typeof import('@ca/contracts');
const { getStatus, putRoute, startDelivery } = require('../harness') as typeof import('../harness');
const { startTwilioFake } = require('../providers/fakes/twilio-fake') as typeof import('../providers/fakes/twilio-fake');
const { buildProviderSim, providerSimMigrations } = require('../../src/provider-sim/sim-app') as typeof import('../../src/provider-sim/sim-app');
const { createReceiptSender } = require('../../src/provider-sim/receipt-sender') as typeof import('../../src/provider-sim/receipt-sender');
const { createHttpSimProviders } = require('../../src/providers/http-sim-provider') as typeof import('../../src/providers/http-sim-provider');
const { signSimReceipt } = require('../../src/receipts/sim-signature') as typeof import('../../src/receipts/sim-signature');
const { createReceiptStore } = require('../../src/receipts/receipt-store') as typeof import('../../src/receipts/receipt-store');
const { createSuppressionStore } = require('../../src/store/suppressions') as typeof import('../../src/store/suppressions');

test.after(() => telemetry.shutdown());

type H = Awaited<ReturnType<typeof startDelivery>>;
async function statusEvents(h: H, reader: { records: Array<{ topic: string; value: string }> }, id: string) {
  return reader.records.filter((r) => r.topic === h.topics.status).map((r) => parseStatusEvent(r.value)).filter((e) => e?.id === id);
}

test('Twilio status callbacks: signature checked as Twilio documents, sent→delivered once, monotonic, failed 30006 is a bounce, a callback before the commit applied by it', async (t) => {
  const h = await startDelivery({ receipts: {} });
  t.after(() => h.close());
  const twilio = await startTwilioFake();
  t.after(() => twilio.close());
  const reader = await readTopics(h.reader, [h.topics.status]);
  t.after(() => reader.stop());
  await h.startConsuming();

  const tenantId = randomUUID();
  const put = await putRoute(h, tenantId, 'sms', { providers: [{ name: 'twilio', kind: 'twilio', settings: { accountSid: twilio.accountSid, from: '+15005550006', baseUrl: twilio.url }, credentials: { authToken: twilio.authToken } }] });
  assert.equal(put.status, 200, JSON.stringify(put.body));

  const a = await h.send('sms', '+14155550100', { tenantId });
  const b = await h.send('sms', '+14155550101', { tenantId });
  for (const m of [a, b]) await waitFor(`${m.id} sent`, async () => (await getStatus(h, m.id)).body.status === 'sent', 20_000);
  const sidOf = (to: string) => twilio.messages.find((m) => m.to === to)!;
  assert.equal(sidOf(a.to).statusCallback, `${h.url}/v1/receipts/twilio`, 'the Messages API request carried StatusCallback');

  const forged = await twilio.callback(sidOf(a.to).sid, 'delivered', { signWith: 'not-the-auth-token' });
  assert.equal(forged.status, 403);
  assert.equal(forged.contentType.split(';')[0], 'application/problem+json');
  assert.equal(forged.body.code, 'RECEIPT_SIGNATURE_INVALID');
  assert.equal((await getStatus(h, a.id)).body.status, 'sent', 'a forged receipt changes nothing');

  assert.equal((await twilio.callback(sidOf(a.to).sid, 'sent')).body.outcome, 'ignored', 'an intermediate status is recorded only');
  const ok = await twilio.callback(sidOf(a.to).sid, 'delivered');
  assert.equal(ok.status, 200);
  assert.equal(ok.body.outcome, 'applied');
  assert.equal((await getStatus(h, a.id)).body.status, 'delivered');
  assert.equal((await twilio.callback(sidOf(a.to).sid, 'delivered')).body.outcome, 'duplicate');
  assert.equal((await twilio.callback(sidOf(a.to).sid, 'undelivered', { errorCode: '30003' })).body.outcome, 'stale', 'a late receipt never moves a delivered message');
  assert.equal((await getStatus(h, a.id)).body.status, 'delivered');

  assert.equal((await twilio.callback(sidOf(b.to).sid, 'failed', { errorCode: '30006' })).body.outcome, 'applied');
  assert.equal((await getStatus(h, b.id)).body.status, 'bounced');

  // One status event per transition, each with a higher version than the one before.
  const events = await waitFor('status events of a', async () => {
    const e = await statusEvents(h, reader, a.id);
    return e.some((x) => x?.status === 'delivered') ? e : null;
  });
  assert.deepEqual(events.map((e) => e!.status), ['sent', 'delivered']);
  assert.ok(events[1]!.version > events[0]!.version);
  await waitFor('bounced event of b', async () => (await statusEvents(h, reader, b.id)).some((e) => e?.status === 'bounced'));

  // A provider that calls back before it answers the send: the receipt finds no message with its id
  // yet (kept as unmatched), and the attempt's own commit applies it — delivered, never stuck at sent.
  twilio.callbackBeforeReply = 'delivered';
  const c = await h.send('sms', '+14155550102', { tenantId });
  await waitFor(`${c.id} delivered`, async () => (await getStatus(h, c.id)).body.status === 'delivered', 20_000);
  assert.deepEqual(twilio.earlyCallbacks.map((e) => [e.status, e.outcome]), [[200, 'unmatched']], 'the receipt came before the commit');
  const early = await waitFor('status events of c', async () => {
    const e = await statusEvents(h, reader, c.id);
    return e.some((x) => x?.status === 'delivered') ? e : null;
  });
  assert.deepEqual(early.map((e) => e!.status), ['sent', 'delivered']);
  assert.ok(early[1]!.version > early[0]!.version);

  // Receipts that arrive together are applied in one transaction, each with its own outcome, in order.
  twilio.callbackBeforeReply = null;
  const d = await h.send('sms', '+14155550103', { tenantId });
  const e = await h.send('sms', '+14155550104', { tenantId });
  for (const m of [d, e]) await waitFor(`${m.id} sent`, async () => (await getStatus(h, m.id)).body.status === 'sent', 20_000);
  const receipt = (to: string, providerStatus: string, status: 'delivered' | 'bounced' | 'undelivered' | null, errorCode: string | null = null) =>
    ({ input: { source: 'twilio' as const, providerMessageId: to.startsWith('SM') ? to : sidOf(to).sid, providerStatus, status, errorCode, tenantId }, traceHeaders: null });
  const outcomes = await createReceiptStore(h.db, h.topics).applyMany([
    receipt(d.to, 'delivered', 'delivered'),
    receipt(d.to, 'delivered', 'delivered'),
    receipt(d.to, 'undelivered', 'undelivered', '30003'),
    receipt(e.to, 'sent', null),
    receipt(`SM${'0'.repeat(32)}`, 'delivered', 'delivered'),
    receipt(e.to, 'failed', 'bounced', '30006'),
  ], new Date());
  assert.deepEqual(outcomes, ['applied', 'duplicate', 'stale', 'ignored', 'unmatched', 'applied']);
  assert.equal((await getStatus(h, d.id)).body.status, 'delivered');
  assert.equal((await getStatus(h, e.id)).body.status, 'bounced');

  // A bounce suppresses the address for its merchant (issue 11 item 4); a delivered one does not.
  const suppressions = createSuppressionStore(h.db);
  assert.equal(await suppressions.isSuppressed(tenantId, 'sms', b.to), true, 'bounced by a Twilio callback');
  assert.equal(await suppressions.isSuppressed(tenantId, 'sms', e.to), true, 'bounced in a batch');
  assert.equal(await suppressions.isSuppressed(tenantId, 'sms', d.to), false);
  assert.equal(await suppressions.isSuppressed(randomUUID(), 'sms', b.to), false, 'only for its own merchant');
  const [entry] = (await suppressions.list(tenantId, { channel: 'sms', limit: 10 })).filter((x) => x.recipient === b.to);
  assert.equal(entry?.reason, 'bounced (delivery receipt, error code 30006)');
  assert.equal(entry?.messageId, b.id);
});

test('provider-sim posts signed receipts: sent→delivered, and the receipt span is in the message trace, linked to the attempt span', async (t) => {
  const secret = 'sim-receipt-secret-0123456789';
  const simDb = await testSchema('sim');
  await migrate(simDb.db, simDb.schema, providerSimMigrations);
  const logger = createLogger({ service: 'provider-sim', level: 'error', silent: true });
  const clock = { now: () => new Date() };
  const receipts = createReceiptSender({ secret, delayMs: 300, bounceRate: 0, undeliveredRate: 0 }, { random: () => 0.5, clock, logger });
  const sim = buildProviderSim({ db: simDb.db, logger, clock, random: () => 0.99, latencyMs: 0, failureRate: 0, receipts }).listen(0, '127.0.0.1');
  await new Promise((r) => sim.once('listening', r));
  t.after(async () => {
    receipts.close();
    await new Promise((r) => sim.close(r));
    await simDb.cleanup();
  });
  const simUrl = `http://127.0.0.1:${(sim.address() as AddressInfo).port}`;
  const h = await startDelivery({ receipts: { simSecret: secret }, providers: () => createHttpSimProviders(simUrl, clock) });
  t.after(() => h.close());
  await h.startConsuming();

  const m = await h.send('email', 'jane@example.com');
  await waitFor('delivered', async () => (await getStatus(h, m.id)).body.status === 'delivered', 20_000);

  // A receipt not signed with the shared secret is refused.
  const body = JSON.stringify({ providerMessageId: 'x', status: 'bounced' });
  const forged = await fetch(`${h.url}/v1/receipts/sim`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-sim-signature': signSimReceipt('another-secret-0123456789', body, new Date()) }, body });
  assert.equal(forged.status, 403);
  assert.equal(forged.headers.get('content-type')?.split(';')[0], 'application/problem+json');

  const spans = await waitFor('receipt span exported', async () => {
    await telemetry.forceFlush();
    const all = exporter.getFinishedSpans();
    const receipt = all.find((s) => s.name === SPAN.receipt && s.attributes[ATTR.messageId] === m.id);
    const attempt = all.find((s) => s.name === SPAN.attempt && s.attributes[ATTR.messageId] === m.id && s.attributes[ATTR.attemptOutcome] === 'sent');
    return receipt && attempt ? { receipt, attempt } : null;
  });
  const attemptCtx = spans.attempt.spanContext();
  assert.equal(spans.receipt.spanContext().traceId, attemptCtx.traceId, 'the receipt span is in the message trace');
  assert.equal(spans.receipt.parentSpanContext?.spanId, attemptCtx.spanId, 'a child of the attempt span');
  assert.deepEqual(spans.receipt.links.map((l) => l.context.spanId), [attemptCtx.spanId], 'linked to the attempt span');
  assert.equal(spans.receipt.attributes[ATTR.receiptOutcome], 'applied');
});
