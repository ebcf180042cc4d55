import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { isWholeTrace, readTrace, startSystem, waitFor } from '@ca/testing';

/**
 * The README's "Failure scenarios", each played on the whole system (started as `npm start`
 * starts it): turn the fault on through /admin/faults, send, wait for the outcome, and read the
 * trace back from logging-service to check the shape an operator would see in the waterfall.
 * The scenarios run one after another on one system, each clearing its faults when it is done.
 */

interface Span {
  spanId: string;
  parentSpanId: string | null;
  service: string;
  name: string;
  kind: string;
  durationMs: number;
  status: 'ok' | 'error' | 'unset';
  attributes: Record<string, unknown>;
  logs: Array<{ level: string; message: string }>;
}

const ADMIN_TOKEN = randomBytes(24).toString('base64url');
const SERVICE_TOKEN = randomBytes(24).toString('base64url');
const PREFIX = `faults.${randomUUID().slice(0, 8)}.`;

test('failure scenarios: each injected fault leaves the trace shape the README promises', { timeout: 600_000 }, async (t) => {
  const system = await startSystem({
    database: 'comm_aggregator_faults',
    env: { KAFKA_TOPIC_PREFIX: PREFIX, BACKOFF_BASE_MS: '200', BACKOFF_MAX_MS: '1000', MAX_ATTEMPTS: '10', ADMIN_TOKEN, SERVICE_TOKEN },
  });
  t.after(() => system.stop());
  const { router, delivery, logging } = system.urls;

  const admin = async (service: string, method: 'PUT' | 'DELETE', faults?: Record<string, unknown>) => {
    const res = await fetch(`${service}/admin/faults`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: faults ? JSON.stringify(faults) : undefined,
    });
    assert.equal(res.status, method === 'PUT' ? 200 : 204, `${method} ${service}/admin/faults`);
  };
  const send = async (channel: string, to: string) => {
    const traceId = randomBytes(16).toString('hex');
    const clientSpanId = randomBytes(8).toString('hex');
    const res = await fetch(`${router}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${system.apiKey}`, traceparent: `00-${traceId}-${clientSpanId}-01` },
      body: JSON.stringify({ channel, to, ...(channel === 'email' ? { subject: 'Fault drill' } : {}), body: `drill ${randomUUID()}` }),
    });
    assert.equal(res.status, 202);
    const { id } = (await res.json()) as { id: string };
    return { id, traceId, clientSpanId };
  };
  const status = async (id: string) => {
    const r = await fetch(`${router}/v1/messages/${id}`, { headers: { authorization: `Bearer ${system.apiKey}` } });
    return (await r.json()) as { status: string; deliveryAttempts: number };
  };
  const untilSent = (id: string) => waitFor(`message ${id} sent`, async () => {
    const view = await status(id);
    // `sent`, or `delivered` when provider-sim's receipt (on under npm start) has already come back: either way it was sent.
    return ['sent', 'delivered'].includes(view.status) ? view : null;
  }, 90_000, 100);
  const spansOf = async (traceId: string): Promise<Span[]> => (await readTrace<Span>(logging, traceId, SERVICE_TOKEN))?.spans ?? [];
  // Spans arrive in export batches, a parent often after its children (it ends later): a trace is
  // read only once every parent is there (the root's parent is the client's span) and `done` holds.
  const traceWhere = (m: { traceId: string; clientSpanId: string }, what: string, done: (spans: Span[]) => boolean) =>
    waitFor(`trace ${m.traceId}: ${what}`, async () => {
      const spans = await spansOf(m.traceId);
      return spans.length > 0 && isWholeTrace(spans, m.clientSpanId) && done(spans) ? spans : null;
    }, 90_000, 250);
  const email = () => `drill.${randomUUID().slice(0, 6)}@example.com`;
  const attemptsOf = (spans: Span[]) => spans.filter((s) => s.name === 'delivery.attempt').sort((a, b) => Number(a.attributes['ca.attempt.number']) - Number(b.attributes['ca.attempt.number']));
  const under = (spans: Span[], parent: Span, name: string) => spans.filter((s) => s.parentSpanId === parent.spanId && s.name === name);

  await t.test('provider outage: failed attempts with error status and the fault on provider.send, retries scheduled, then sent once it is lifted', async () => {
    await admin(delivery, 'PUT', { 'provider.outage.email': 1 });
    const hit = await send('email', email());
    const spared = await send('sms', '+15551230001'); // another channel: no outage
    await waitFor('two failed attempts', async () => ((await status(hit.id)).deliveryAttempts >= 2 ? true : null), 60_000, 100);
    await admin(delivery, 'DELETE');
    const final = await untilSent(hit.id);
    assert.ok(final.deliveryAttempts >= 3);
    assert.equal((await untilSent(spared.id)).deliveryAttempts, 1, 'the sms channel was not affected');

    const spans = await traceWhere(hit, 'every attempt with its provider call', (s) => {
      const attempts = attemptsOf(s);
      return attempts.length === final.deliveryAttempts && attempts.every((a) => under(s, a, 'provider.send').length === 1) && attempts.at(-1)?.attributes['ca.attempt.outcome'] === 'sent';
    });
    const attempts = attemptsOf(spans);
    for (const [i, attempt] of attempts.entries()) {
      const call = under(spans, attempt, 'provider.send')[0]!;
      assert.equal(call.kind, 'CLIENT');
      assert.equal(call.attributes['peer.service'], call.attributes['ca.provider.name'], 'the provider is the peer service (service map)');
      if (i < attempts.length - 1) {
        assert.equal(attempt.attributes['ca.attempt.outcome'], 'transient_failure');
        assert.equal(attempt.status, 'error');
        assert.ok(Number(attempt.attributes['ca.attempt.backoff_ms']) > 0, 'a retry was scheduled');
        assert.ok(attempt.logs.some((l) => /retry scheduled/.test(l.message)));
        assert.equal(call.status, 'error');
        assert.equal(call.attributes['ca.fault.injected'], 'provider.outage');
        assert.ok(call.logs.some((l) => l.message === 'fault.injected'), 'the fault.injected event sits on the provider call');
        // The retry is consumed from the retry topic, as a child of the attempt that scheduled it.
        const next = attempts[i + 1]!;
        const consume = spans.find((s) => s.spanId === next.parentSpanId)!;
        assert.equal(consume.kind, 'CONSUMER');
        assert.equal(consume.attributes['messaging.operation.type'], 'process');
        assert.equal(consume.attributes['messaging.destination.name'], `${PREFIX}send.email.retry`);
      } else {
        assert.equal(attempt.attributes['ca.attempt.outcome'], 'sent');
        assert.notEqual(call.status, 'error');
        assert.equal(call.attributes['ca.fault.injected'], undefined);
        assert.ok(call.attributes['ca.provider.message_id']);
      }
    }
    const spareSpans = await traceWhere(spared, 'the sms attempt', (s) => attemptsOf(s).length === 1 && s.some((x) => x.name === 'provider.send'));
    assert.ok(spareSpans.every((s) => s.attributes['ca.fault.injected'] === undefined), 'no fault on the sms trace');
  });

  await t.test('provider latency: one attempt whose provider call carries the added delay', async () => {
    await admin(delivery, 'PUT', { 'provider.latency_ms': 1500 });
    const slow = await send('email', email());
    assert.equal((await untilSent(slow.id)).deliveryAttempts, 1);
    await admin(delivery, 'DELETE');
    const spans = await traceWhere(slow, 'the attempt and its provider call', (s) => s.some((x) => x.name === 'provider.send') && attemptsOf(s).length === 1);
    const call = spans.find((s) => s.name === 'provider.send')!;
    assert.equal(call.attributes['ca.fault.injected'], 'provider.latency_ms');
    assert.equal(call.attributes['ca.fault.delay_ms'], 1500);
    assert.ok(call.durationMs >= 1500, `provider.send took ${call.durationMs} ms`);
    const attempt = spans.find((s) => s.spanId === call.parentSpanId)!;
    assert.equal(attempt.attributes['ca.attempt.outcome'], 'sent');
  });

  await t.test('broker publish failures: the relay\'s producer span fails with the fault under it, the rows stay, a later publish succeeds', async () => {
    await admin(router, 'PUT', { 'broker.publish_failure': 1 });
    const logFrom = system.output().length;
    const held = await send('email', email());
    await waitFor('the router\'s relay to fail a publish', async () => /outbox relay failed/.test(system.output().slice(logFrom)) || null, 60_000, 100);
    assert.equal((await status(held.id)).status, 'pending', 'accepted, held in the outbox');
    await admin(router, 'DELETE');
    await untilSent(held.id);

    const topic = `${PREFIX}send.email`;
    const spans = await traceWhere(held, 'failed and successful produce spans, and the attempt', (s) =>
      s.some((x) => x.name === `send ${topic}` && x.status === 'error') && s.some((x) => x.name === `send ${topic}` && x.status !== 'error') && s.some((x) => x.name === 'delivery.attempt' && x.attributes['ca.attempt.outcome'] === 'sent'));
    const produces = spans.filter((s) => s.name === `send ${topic}` && s.service === 'router-service');
    for (const p of produces) {
      assert.equal(p.kind, 'PRODUCER');
      assert.equal(p.attributes['messaging.system'], 'kafka');
      assert.equal(p.attributes['messaging.operation.type'], 'send');
      assert.equal(p.attributes['messaging.destination.name'], topic);
    }
    const failed = produces.filter((p) => p.status === 'error');
    const published = produces.filter((p) => p.status !== 'error');
    assert.equal(published.length, 1, 'published once after the failures');
    for (const f of failed) {
      const [mark] = under(spans, f, 'fault.injected');
      assert.ok(mark, 'each failed produce has the fault under it');
      assert.equal(mark.attributes['ca.fault.injected'], 'broker.publish_failure');
      assert.equal(mark.status, 'error');
      assert.ok(f.logs.some((l) => /InjectedPublishFailure/.test(l.message)), 'the exception is recorded on the produce span');
    }
    const consume = spans.find((s) => s.kind === 'CONSUMER' && s.service === 'delivery-service')!;
    assert.equal(consume.parentSpanId, published[0]!.spanId, 'delivery consumed the successful publish');
  });

  await t.test('slow PostgreSQL: the delivery-service db spans carry the delay and say so in their statement', async () => {
    await admin(delivery, 'PUT', { 'postgres.latency_ms': 300 });
    const slow = await send('email', email());
    await untilSent(slow.id);
    await admin(delivery, 'DELETE');
    const isDb = (s: Span) => (s.attributes['db.system'] ?? s.attributes['db.system.name']) === 'postgresql';
    const spans = await traceWhere(slow, 'the attempt and db spans of both services', (s) =>
      s.some((x) => x.name === 'delivery.attempt') && s.some((x) => x.service === 'delivery-service' && isDb(x)) && s.some((x) => x.service === 'router-service' && isDb(x)));
    const db = spans.filter((s) => s.service === 'delivery-service' && isDb(s));
    assert.ok(db.length > 0, 'db spans in delivery-service');
    for (const s of db) {
      assert.equal(s.kind, 'CLIENT');
      assert.match(String(s.attributes['db.query.text']), /\/\* ca\.fault\.injected='postgres\.latency_ms',ca\.fault\.delay_ms='300' \*\/$/);
      assert.ok(s.durationMs >= 300, `${s.name} took ${s.durationMs} ms`);
    }
    const routerDb = spans.filter((s) => s.service === 'router-service' && isDb(s));
    assert.ok(routerDb.length > 0 && routerDb.every((s) => !String(s.attributes['db.query.text']).includes('ca.fault')), 'router-service\'s database was not slowed');
  });

  await t.test('logging-service down: the intake answers 503 + Retry-After, nothing arrives meanwhile, and every trace is whole after it is back', async () => {
    await admin(logging, 'PUT', { 'logging.down': true });
    const refused = await fetch(`${logging}/v1/traces`, { method: 'POST', headers: { authorization: `Bearer ${SERVICE_TOKEN}`, 'content-type': 'application/json' }, body: '{"resourceSpans":[]}' });
    assert.equal(refused.status, 503);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal(((await refused.json()) as { code: string }).code, 'INTAKE_UNAVAILABLE');

    const sent = [];
    for (let i = 0; i < 3; i++) sent.push(await send('email', email()));
    for (const m of sent) await untilSent(m.id);
    for (const m of sent) assert.deepEqual(await spansOf(m.traceId), [], 'nothing stored while the intake is down');
    await admin(logging, 'DELETE');

    for (const m of sent) {
      const spans = await traceWhere(m, 'whole after the outage', (s) =>
        s.some((x) => x.name === 'provider.send') && s.some((x) => x.logs.some((l) => /message sent/.test(l.message))));
      assert.ok(spans.some((s) => s.service === 'router-service' && s.kind === 'SERVER'));
      assert.ok(spans.some((s) => s.kind === 'PRODUCER') && spans.some((s) => s.kind === 'CONSUMER'));
      assert.equal(attemptsOf(spans).length, 1);
    }
  });
});
