import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Span } from '@opentelemetry/api';
import type { SendRecord } from '@ca/contracts';
import { createLogger } from '@ca/telemetry';
import { waitFor } from '@ca/testing';
import { createDispatcher } from '../../src/routing/dispatch';
import { createBreaker, type BreakerSettings, type CircuitState } from '../../src/routing/circuit-breakers';
import { createProviderHealth } from '../../src/routing/provider-health';
import type { Candidate, ProviderRouting } from '../../src/routing/provider-router';
import type { Provider, ProviderRequest, ProviderResult } from '../../src/providers/provider';
import { PermanentDeliveryError, RateLimitedDeliveryError, TransientDeliveryError } from '../../src/errors';

const logger = createLogger({ service: 'test', level: 'error', silent: true });
const BREAKER: BreakerSettings = { errorThresholdPercentage: 50, volumeThreshold: 3, resetTimeoutMs: 200, rollingWindowMs: 10_000 };

/** A provider that keeps what it delivered by idempotency key (like a real one with idempotency), scriptable per call. */
function scripted(name: string, script: (req: ProviderRequest, n: number) => 'ok' | 'refused' | 'accept_then_timeout' | 'transient' | 'bad_recipient' | 'rate_limited') {
  const delivered = new Map<string, string>();
  let calls = 0;
  const provider: Provider = {
    name,
    async send(req) {
      calls += 1;
      const what = script(req, calls);
      if (what === 'refused') throw Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
      if (what === 'transient') return { ok: false, retryable: true, reason: `${name} 500` };
      if (what === 'bad_recipient') return { ok: false, retryable: false, notAccepted: true, badRecipient: true, reason: 'invalid number', code: '21211' };
      if (what === 'rate_limited') return { ok: false, retryable: true, notAccepted: true, retryAfterMs: 1500, reason: '429' };
      if (!delivered.has(req.idempotencyKey)) delivered.set(req.idempotencyKey, `${name}-${randomUUID()}`);
      if (what === 'accept_then_timeout') throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
      return { ok: true, providerMessageId: delivered.get(req.idempotencyKey)! } satisfies ProviderResult;
    },
  };
  return { provider, delivered, calls: () => calls };
}

function candidate(p: Provider, breaker = createBreaker(p.name, BREAKER)): Candidate {
  return { name: p.name, provider: p, breaker, health: createProviderHealth(), weight: 1 };
}

function fixture(candidates: Candidate[]) {
  const pins = new Map<string, string | null>();
  const routing: ProviderRouting = { route: async () => ({ candidates, routed: true, mode: 'ordered' }), states: () => [], close: () => undefined };
  const dispatcher = createDispatcher({
    routing,
    pinProvider: async (id, _fence, provider) => { pins.set(id, provider); return true; },
    suppressions: null,
    providerTimeoutMs: 1000,
    circuitRetryMs: 200,
    clock: { now: () => new Date() },
    logger,
  });
  const record: SendRecord = { v: 1, id: randomUUID(), channel: 'sms', to: '+14155550100', body: 'hi', priority: 'medium', createdAt: new Date().toISOString(), traceId: 'a'.repeat(32), tenantId: randomUUID() };
  /** One attempt as the worker makes it: the claim carries the ledger's pin from earlier attempts. */
  async function attempt(n: number) {
    const attrs: Record<string, unknown> = {};
    const span = { setAttribute: (k: string, v: unknown) => { attrs[k] = v; return span; } } as unknown as Span;
    const outcome = await dispatcher.dispatch(record, { fence: n, attempt: n, delivered: null, pinnedProvider: pins.get(record.id) ?? null }, span);
    return { outcome, attrs };
  }
  return { attempt, pins, record };
}

test('A accepts then times out: no failover to B; the retry goes to A only, and the recipient gets exactly one message', async () => {
  const a = scripted('a', (_req, n) => (n === 1 ? 'accept_then_timeout' : 'ok'));
  const b = scripted('b', () => 'ok');
  const f = fixture([candidate(a.provider), candidate(b.provider)]);

  const first = await f.attempt(1);
  assert.ok(!first.outcome.ok && first.outcome.failure instanceof TransientDeliveryError);
  assert.equal(first.attrs['ca.routing.decision'], 'retry_same_provider');
  assert.equal(first.attrs['ca.routing.path'], 'a:ambiguous');
  assert.equal(f.pins.get(f.record.id), 'a', 'the ledger pins the message to a');

  const second = await f.attempt(2);
  assert.ok(second.outcome.ok);
  assert.equal(second.attrs['ca.provider.pinned'], 'a');
  assert.equal(second.attrs['ca.provider.candidates'], 'a');
  assert.equal(b.calls(), 0, 'b was never called');
  assert.equal(a.delivered.size + b.delivered.size, 1, 'exactly one message delivered');
});

test('a refused connection is a certain "not accepted": fail over to the next provider at once', async () => {
  const a = scripted('a', () => 'refused');
  const b = scripted('b', () => 'ok');
  const f = fixture([candidate(a.provider), candidate(b.provider)]);
  const r = await f.attempt(1);
  assert.ok(r.outcome.ok);
  assert.equal(r.attrs['ca.routing.decision'], 'sent_after_failover');
  assert.equal(r.attrs['ca.routing.path'], 'a:not_accepted>b:sent');
  assert.equal(f.pins.get(f.record.id), 'b');
});

test('an invalid recipient fails permanently on the first provider (no failover); a 429 everywhere reschedules without an attempt', async () => {
  const a = scripted('a', () => 'bad_recipient');
  const b = scripted('b', () => 'ok');
  const f = fixture([candidate(a.provider), candidate(b.provider)]);
  const r = await f.attempt(1);
  assert.ok(!r.outcome.ok && r.outcome.failure instanceof PermanentDeliveryError);
  assert.equal(b.calls(), 0);

  const c = scripted('c', () => 'rate_limited');
  const g = fixture([candidate(c.provider)]);
  const limited = await g.attempt(1);
  assert.ok(!limited.outcome.ok && limited.outcome.failure instanceof RateLimitedDeliveryError);
  assert.equal(limited.outcome.failure.retryAfterMs, 1500);
});

test('a flapping provider: its circuit opens (traffic fails over), half-opens after the reset timeout and closes on a good trial', async () => {
  let down = true;
  const a = scripted('a', () => (down ? 'transient' : 'ok'));
  const b = scripted('b', () => 'ok');
  const breaker = createBreaker('a', BREAKER);
  const states: CircuitState[] = [];
  breaker.onStateChange((s) => states.push(s));
  // a is first, b second: a's transient 500s are ambiguous, so each attempt retries a (pinned) until the circuit opens.
  const f = fixture([candidate(a.provider, breaker), candidate(b.provider)]);
  for (let n = 1; n <= 3; n++) {
    f.pins.clear();
    await f.attempt(n);
  }
  assert.equal(breaker.state(), 'open');
  f.pins.clear();
  const during = await f.attempt(4);
  assert.ok(during.outcome.ok);
  assert.equal(during.attrs['ca.routing.path'], 'a:circuit_open>b:sent', 'an open circuit is a certain "not accepted"');
  const callsWhileOpen = a.calls();

  await waitFor('the circuit to half-open', async () => breaker.state() === 'half_open', 5000, 20);
  down = false;
  f.pins.clear();
  const trial = await f.attempt(5);
  assert.ok(trial.outcome.ok);
  assert.equal(trial.attrs['ca.routing.path'], 'a:sent');
  assert.equal(a.calls(), callsWhileOpen + 1);
  assert.equal(breaker.state(), 'closed');

  down = true;
  for (let n = 6; n <= 9 && breaker.state() !== 'open'; n++) {
    f.pins.clear();
    await f.attempt(n);
  }
  assert.deepEqual(states, ['open', 'half_open', 'closed', 'open']);
  breaker.shutdown();
});
