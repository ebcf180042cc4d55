import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createFaults } from '@ca/faults';
import { inSpan } from '@ca/telemetry';
import type { Provider, ProviderRequest, Providers } from '../../src/providers/provider';
import { withProviderFaults } from '../../src/providers/with-faults';

const exporter = new InMemorySpanExporter();
new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).register();

function countingProviders() {
  const calls: ProviderRequest[] = [];
  const provider: Provider = { name: 'sim', send: async (req) => { calls.push(req); return { ok: true, providerMessageId: `pm-${calls.length}` }; } };
  return { providers: { email: provider, sms: provider, whatsapp: provider, push: provider } as Providers, calls };
}

const req = (channel: ProviderRequest['channel']): ProviderRequest => ({ idempotencyKey: 'm1', channel, to: 'x', body: 'b' });
const within = <T>(fn: () => Promise<T>) => inSpan('provider.send', {}, fn);

test('provider.outage answers a retryable failure without calling the provider, per channel, and marks the provider span', async () => {
  exporter.reset();
  const { providers, calls } = countingProviders();
  const decorated = withProviderFaults(providers, createFaults({ 'provider.outage.sms': 1 }), () => 0.99);
  const sms = await within(() => decorated.sms.send(req('sms'), AbortSignal.timeout(1000)));
  assert.deepEqual({ ...sms, reason: undefined }, { ok: false, retryable: true, reason: undefined });
  assert.match((sms as { reason: string }).reason, /503.*provider\.outage/);
  const email = await within(() => decorated.email.send(req('email'), AbortSignal.timeout(1000)));
  assert.deepEqual(email, { ok: true, providerMessageId: 'pm-1' });
  assert.deepEqual(calls.map((c) => c.channel), ['email'], 'the outage kept the sms call from the provider');
  assert.equal(decorated.sms.name, 'sim', 'the provider keeps its name (ca.provider.name)');
  const [smsSpan, emailSpan] = exporter.getFinishedSpans();
  assert.equal(smsSpan?.attributes['ca.fault.injected'], 'provider.outage');
  assert.deepEqual(smsSpan?.events.map((e) => e.name), ['fault.injected']);
  assert.equal(emailSpan?.attributes['ca.fault.injected'], undefined, 'no fault, no mark');
});

test('provider.latency_ms delays the call, ends early when the worker\'s timeout aborts it, and records the delay', async () => {
  exporter.reset();
  const { providers, calls } = countingProviders();
  const decorated = withProviderFaults(providers, createFaults({ 'provider.latency_ms': 120, 'provider.outage': 0.5 }), () => 0.7);
  const started = performance.now();
  const slow = await within(() => decorated.push.send(req('push'), AbortSignal.timeout(5000)));
  assert.ok(performance.now() - started >= 120);
  assert.equal(slow.ok, true, 'random 0.7 ≥ share 0.5: no outage this time');
  const [span] = exporter.getFinishedSpans();
  assert.equal(span?.attributes['ca.fault.injected'], 'provider.latency_ms');
  assert.equal(span?.attributes['ca.fault.delay_ms'], 120);

  const tooSlow = withProviderFaults(providers, createFaults({ 'provider.latency_ms': 60_000 }), Math.random);
  await assert.rejects(tooSlow.email.send(req('email'), AbortSignal.timeout(50)), (err: Error) => ['AbortError', 'TimeoutError'].includes(err.name), 'aborted as a slow provider call is (the worker counts it as a timeout)');
  assert.equal(calls.length, 1, 'the aborted call never reached the provider');
});
