import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { isWholeTrace, readTrace, startSystem, waitFor } from '@ca/testing';

/**
 * The product's promise, end to end: the whole system started as `npm start` starts it, one
 * message that fails twice and then succeeds, and its trace read back from logging-service.
 * This is also the proof that the SDK really instruments express, kafkajs and pg (a wrong start
 * order would leave those spans out and fail here).
 */

interface Span {
  spanId: string;
  parentSpanId: string | null;
  service: string;
  name: string;
  kind: string;
  attributes: Record<string, unknown>;
  logs: Array<{ level: string; message: string }>;
}

test('one message, one trace: HTTP → outbox → Kafka → three attempts → sent, with logs on their spans', async (t) => {
  const system = await startSystem({
    database: 'comm_aggregator_systest',
    env: { KAFKA_TOPIC_PREFIX: `sys.${randomUUID().slice(0, 8)}.`, BACKOFF_BASE_MS: '200' },
  });
  t.after(() => system.stop());
  const { router, logging } = system.urls;

  const traceId = randomBytes(16).toString('hex');
  const clientSpanId = randomBytes(8).toString('hex');
  const to = `fail-transient.${randomUUID().slice(0, 6)}@example.com`;
  const body = `secret body ${randomUUID()}`;
  const res = await fetch(`${router}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${system.apiKey}`, traceparent: `00-${traceId}-${clientSpanId}-01` },
    body: JSON.stringify({ channel: 'email', to, subject: 'Trace me', body }),
  });
  assert.equal(res.status, 202);
  const accepted = (await res.json()) as { id: string; traceId: string };
  assert.equal(accepted.traceId, traceId, 'the client trace continues');
  assert.match(res.headers.get('traceresponse') ?? '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));

  const status = await waitFor('the message to be sent', async () => {
    const r = await fetch(`${router}/v1/messages/${accepted.id}`, { headers: { authorization: `Bearer ${system.apiKey}` } });
    const view = (await r.json()) as { status: string; deliveryAttempts: number; traceId: string };
    // `sent`, or `delivered` when provider-sim's receipt (on under npm start) has already come back: either way it was sent.
    return ['sent', 'delivered'].includes(view.status) ? view : null;
  }, 30_000, 100);
  assert.equal(status.deliveryAttempts, 3);
  assert.equal(status.traceId, traceId);

  // Spans are exported in batches: wait until the third attempt's provider span has arrived.
  const trace = await waitFor('the whole trace in logging-service', async () => {
    const view = await readTrace<Span>(logging, traceId, system.apiKey);
    if (!view) return null;
    const attempts = view.spans.filter((s) => s.name === 'delivery.attempt');
    const providers = view.spans.filter((s) => s.name === 'provider.send');
    const sentLog = view.spans.some((s) => s.logs.some((l) => /message sent/.test(l.message)));
    // Whole: a delivery receipt's spans (provider-sim → delivery-service → router) arrive in batches of their own.
    const whole = isWholeTrace(view.spans, clientSpanId);
    return attempts.length === 3 && providers.length === 3 && sentLog && whole ? view : null;
  }, 30_000, 250);

  const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
  const parentOf = (s: Span) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
  const isDescendant = (s: Span, ancestor: Span): boolean => {
    for (let p = parentOf(s); p; p = parentOf(p)) if (p.spanId === ancestor.spanId) return true;
    return false;
  };

  await t.test('spans from both services, one trace id', () => {
    assert.equal(trace.traceId, traceId);
    assert.ok(trace.services.includes('router-service'));
    assert.ok(trace.services.includes('delivery-service'));
  });

  await t.test('no orphans: every parent resolves, except the root whose parent is the client span', () => {
    const orphans = trace.spans.filter((s) => s.parentSpanId && !byId.has(s.parentSpanId));
    assert.deepEqual(orphans.map((s) => s.parentSpanId), [clientSpanId], `orphans: ${orphans.map((s) => `${s.service}/${s.name}`).join(', ')}`);
    assert.equal(orphans[0]?.kind, 'SERVER');
  });

  await t.test('auto-instrumentation is live: express, pg in both services, kafkajs producer → consumer', () => {
    assert.ok(trace.spans.some((s) => s.service === 'router-service' && /request handler|router|\/v1\/messages/.test(s.name) && s.kind !== 'SERVER'), 'an express span');
    for (const service of ['router-service', 'delivery-service']) {
      assert.ok(trace.spans.some((s) => s.service === service && (s.attributes['db.system'] ?? s.attributes['db.system.name']) === 'postgresql'), `pg spans in ${service}`);
    }
    const consumers = trace.spans.filter((s) => s.kind === 'CONSUMER' && s.service === 'delivery-service');
    assert.ok(consumers.length >= 3, 'one consumer span per delivered record');
    for (const c of consumers) {
      assert.equal(parentOf(c)?.kind, 'PRODUCER', 'each consume is a child of its produce');
    }
    const firstProduce = parentOf(consumers.find((c) => !isDescendant(c, consumers.find((x) => x !== c)!)) ?? consumers[0]!)!;
    assert.equal(firstProduce.service, 'router-service', 'the first hop is produced by router-service');
  });

  await t.test('three attempts, each with its provider call; each retry descends from the attempt before', () => {
    const attempts = trace.spans.filter((s) => s.name === 'delivery.attempt').sort((a, b) => Number(a.attributes['ca.attempt.number']) - Number(b.attributes['ca.attempt.number']));
    assert.deepEqual(attempts.map((a) => a.attributes['ca.attempt.number']), [1, 2, 3]);
    assert.deepEqual(attempts.map((a) => a.attributes['ca.attempt.outcome']), ['transient_failure', 'transient_failure', 'sent']);
    for (const a of attempts) {
      assert.ok(trace.spans.some((s) => s.name === 'provider.send' && s.parentSpanId === a.spanId), 'provider span under its attempt');
    }
    assert.ok(isDescendant(attempts[1]!, attempts[0]!));
    assert.ok(isDescendant(attempts[2]!, attempts[1]!));
    assert.ok(Number(attempts[0]!.attributes['ca.attempt.backoff_ms']) > 0);
  });

  await t.test('winston records sit on the spans that wrote them', () => {
    const accepted = trace.spans.find((s) => s.service === 'router-service' && s.logs.some((l) => /accepted/i.test(l.message)));
    assert.ok(accepted, 'router log attached to a router span');
    const retried = trace.spans.find((s) => s.name === 'delivery.attempt' && s.logs.some((l) => /retry scheduled/.test(l.message)));
    assert.ok(retried, 'retry log attached to its attempt span');
  });

  await t.test('nothing unmasked: no recipient, no body in spans or logs', () => {
    const text = JSON.stringify(trace);
    assert.ok(!text.includes(to), 'recipient leaked');
    assert.ok(!text.includes(body), 'body leaked');
  });
});
