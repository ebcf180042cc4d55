import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEAD_LETTER_REASONS, type DeliveryStatusView } from '@ca/contracts';
import { waitFor } from '@ca/testing';
import { getStatus, SERVICE_AUTH, startDelivery, type Harness } from './harness';

async function finalView(h: Harness, id: string, status: string, timeoutMs = 15_000): Promise<DeliveryStatusView> {
  return waitFor(`message ${id} to be ${status}`, async () => {
    const r = await getStatus(h, id);
    return r.status === 200 && r.body.status === status ? (r.body as unknown as DeliveryStatusView) : null;
  }, timeoutMs);
}

async function providerRecords(h: Harness, id: string) {
  const calls = await h.db('sim_provider_calls').where({ idempotency_key: id }).orderBy('id');
  const effects = await h.db('sim_provider_effects').where({ idempotency_key: id });
  return { calls, effects };
}

test('delivery-service: every channel delivers once, retries grow, failures dead-letter', async (t) => {
  const h = await startDelivery({ maxAttempts: 3, baseMs: 100 });
  t.after(() => h.close());
  const dlq = await h.readDeadLetters();
  t.after(() => dlq.stop());
  await h.startConsuming();

  await t.test('happy path per channel: sent after one attempt, one provider effect', async () => {
    const records = await Promise.all([
      h.send('email', 'jane.doe@example.com'),
      h.send('sms', '+14155550100'),
      h.send('whatsapp', '+447700900123'),
      h.send('push', 'a'.repeat(64)),
    ]);
    for (const r of records) {
      const view = await finalView(h, r.id, 'sent');
      assert.equal(view.deliveryAttempts, 1);
      assert.equal(view.attempts.length, 1);
      assert.equal(view.attempts[0]?.outcome, 'sent');
      assert.ok(view.providerMessageId?.startsWith(`${r.channel}-`));
      const row = await h.db('messages').where({ id: r.id }).first();
      assert.equal(row.status, 'sent');
      const { effects } = await providerRecords(h, r.id);
      assert.equal(effects.length, 1);
    }
  });

  await t.test('transient failures retry with growing delays, then sent', async () => {
    const r = await h.send('email', 'fail-transient.bob@example.com');
    const view = await finalView(h, r.id, 'sent');
    assert.deepEqual(view.attempts.map((a) => a.outcome), ['transient_failure', 'transient_failure', 'sent']);
    const [first, second] = view.attempts;
    assert.ok(first?.backoffMs && second?.backoffMs && second.backoffMs >= first.backoffMs, `delays grow: ${first?.backoffMs} then ${second?.backoffMs}`);
    // The second attempt really waited for the first backoff.
    assert.ok(Date.parse(second!.at) - Date.parse(first!.at) >= first!.backoffMs!, 'retry waited its backoff');
    const { calls, effects } = await providerRecords(h, r.id);
    assert.equal(calls.length, 3);
    assert.equal(effects.length, 1);
    const sms = await h.send('sms', '+14155559991');
    const smsView = await finalView(h, sms.id, 'sent');
    assert.equal(smsView.deliveryAttempts, 3);
  });

  await t.test('permanent failure: failed, no retry, dead-letter record with the reason (and the merchant)', async () => {
    const tenantId = randomUUID();
    const r = await h.send('whatsapp', '+14155559992', { tenantId });
    const view = await finalView(h, r.id, 'failed');
    assert.equal(view.deliveryAttempts, 1);
    assert.match(view.errorMessage ?? '', /fail-permanent/);
    const dead = await waitFor('dead letter', async () => dlq.records.find((d) => d.headers['x-message-id'] === r.id));
    const body = JSON.parse(dead.value);
    assert.equal(body.reason, DEAD_LETTER_REASONS.permanentFailure);
    assert.equal(body.attempts, 1);
    assert.equal(body.record.id, r.id);
    assert.equal(body.record.tenantId, tenantId, 'the dead letter names the merchant');
    assert.equal((await h.db('messages').where({ id: r.id }).first()).tenant_id, tenantId, 'so does the delivery row');
    // Give the scheduler a chance to (wrongly) retry, then check nothing more happened.
    await new Promise((res) => setTimeout(res, 400));
    assert.equal((await providerRecords(h, r.id)).calls.length, 1);
  });

  await t.test('exhausted retries: dead_lettered and on the dead-letter topic', async () => {
    const r = await h.send('push', `fail-always-${'x'.repeat(40)}`);
    const view = await finalView(h, r.id, 'dead_lettered');
    assert.equal(view.deliveryAttempts, 3);
    assert.equal(view.attempts.length, 3);
    const dead = await waitFor('dead letter', async () => dlq.records.find((d) => d.headers['x-message-id'] === r.id));
    const body = JSON.parse(dead.value);
    assert.equal(body.reason, DEAD_LETTER_REASONS.retriesExhausted);
    assert.match(body.error, /fail-always/);
    assert.equal(dead.headers['x-dead-letter-reason'], DEAD_LETTER_REASONS.retriesExhausted);
  });

  await t.test('malformed records go to the dead-letter topic and the consumer keeps going', async () => {
    await h.producer.send({ topic: h.topics.send('sms'), messages: [{ key: 'bad', value: 'this is not json' }] });
    await h.producer.send({ topic: h.topics.send('sms'), messages: [{ key: 'bad', value: JSON.stringify({ v: 1, id: 'nope' }) }] });
    const good = await h.send('sms', '+14155550123');
    await finalView(h, good.id, 'sent');
    const malformed = await waitFor('two malformed dead letters', async () => {
      const m = dlq.records.filter((d) => d.headers['x-dead-letter-reason'] === DEAD_LETTER_REASONS.malformed);
      return m.length >= 2 ? m : null;
    });
    const reasons = malformed.map((m) => JSON.parse(m.value).error as string);
    assert.ok(reasons.some((e) => /not JSON/.test(e)));
    assert.ok(reasons.some((e) => /send schema/.test(e)));
  });

  await t.test('status API: 404 for unknown, 400 for a non-uuid, 401 without the service token', async () => {
    assert.equal((await getStatus(h, '00000000-0000-4000-8000-000000000000')).status, 404);
    const bad = await fetch(`${h.url}/internal/v1/messages/not-a-uuid`, { headers: SERVICE_AUTH });
    const anonymous = await fetch(`${h.url}/internal/v1/messages/${randomUUID()}`);
    assert.equal(anonymous.status, 401, 'the internal API answers only callers with SERVICE_TOKEN');
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="internal"');
    const forged = await fetch(`${h.url}/internal/v1/messages/${randomUUID()}`, { headers: { authorization: 'Bearer not-the-token-0123456789' } });
    assert.equal(forged.status, 401);
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  });
});
