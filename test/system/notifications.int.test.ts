import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { readTrace, startSystem, waitFor } from '@ca/testing';

interface Span { name: string; service: string; attributes: Record<string, unknown> }

/**
 * The seed's request, verbatim, through the whole system as `npm start` runs it: a user and a
 * template, then POST /v1/notifications → 202 → sent, read back with the seed's fields, and the
 * template rendering as a span of the same trace.
 */
test('seed request verbatim: POST /v1/notifications → sent, with the seed fields and a template.render span', async (t) => {
  const system = await startSystem({ database: 'comm_aggregator_notify', env: { KAFKA_TOPIC_PREFIX: `ntf.${randomUUID().slice(0, 8)}.` } });
  t.after(() => system.stop());
  const { router, logging } = system.urls;
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${system.apiKey}` };
  const put = (path: string, body: unknown, method = 'PUT') => fetch(`${router}${path}`, { method, headers, body: JSON.stringify(body) });

  assert.equal((await put('/v1/users/user-42', { addresses: { sms: ['+14155550123'] }, locale: 'en-GB', timeZone: 'Europe/London' })).status, 201);
  assert.equal((await put('/v1/templates/ORDER_SHIPPED_CONFIRMATION', {
    variants: { en: { sms: { text: 'Your {{ itemName }} (order {{ orderId }}) has shipped.' } } },
  }, 'POST')).status, 201);

  // The seed's example, as written.
  const res = await fetch(`${router}/v1/notifications`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      userId: 'user-42',
      type: 'SMS',
      templateId: 'ORDER_SHIPPED_CONFIRMATION',
      templateParams: { orderId: 'ABC123', itemName: 'Laptop' },
      priority: 'HIGH',
      correlationId: 'order-ABC123',
    }),
  });
  const accepted = (await res.json()) as { id: string; notificationId: string; traceId: string };
  assert.equal(res.status, 202, JSON.stringify(accepted));

  const view = await waitFor('the notification to be sent', async () => {
    const r = await fetch(`${router}/v1/notifications/${accepted.notificationId}`, { headers });
    const v = (await r.json()) as Record<string, unknown>;
    // SENT, or DELIVERED when provider-sim's receipt (on under npm start) has already come back.
    return v.status === 'SENT' || v.status === 'DELIVERED' ? v : null;
  }, 30_000, 100);
  assert.equal(view.notificationId, accepted.id);
  assert.equal(view.userId, 'user-42');
  assert.equal(view.type, 'SMS');
  assert.equal(view.templateId, 'ORDER_SHIPPED_CONFIRMATION');
  assert.equal(view.templateVersion, 1);
  assert.equal(view.priority, 'HIGH');
  assert.equal(view.correlationId, 'order-ABC123');
  assert.equal(view.deliveryAttempts, 1);
  assert.equal(view.errorMessage, null);
  assert.ok(typeof view.lastAttemptedAt === 'string' && typeof view.createdAt === 'string');

  const missing = await fetch(`${router}/v1/notifications`, {
    method: 'POST', headers,
    body: JSON.stringify({ userId: 'user-42', type: 'SMS', templateId: 'ORDER_SHIPPED_CONFIRMATION', templateParams: { orderId: 'X' }, priority: 'LOW' }),
  });
  assert.equal(missing.status, 400);
  assert.deepEqual(((await missing.json()) as { missing: string[] }).missing, ['itemName']);

  const spans = await waitFor('the render span in the trace', async () => {
    const trace = await readTrace<Span>(logging, accepted.traceId, system.apiKey);
    if (!trace) return null;
    return trace.spans.some((s) => s.name === 'template.render') && trace.spans.some((s) => s.service === 'delivery-service') ? trace.spans : null;
  }, 30_000, 200);
  const render = spans.find((s) => s.name === 'template.render')!;
  assert.equal(render.service, 'router-service');
  assert.equal(render.attributes['ca.template.id'], 'ORDER_SHIPPED_CONFIRMATION');
  assert.equal(render.attributes['ca.template.locale'], 'en');

  // Erasure masks the address in both services' stored history; the notification still reads back.
  assert.equal((await fetch(`${router}/v1/users/user-42`, { method: 'DELETE', headers })).status, 204);
  const pg = new Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${system.database}` });
  await pg.connect();
  try {
    const rows = await pg.query<{ r: string; d: string }>(
      'SELECT r.recipient AS r, d.recipient AS d FROM router.messages r JOIN delivery.messages d USING (id) WHERE id = $1', [accepted.id]);
    assert.deepEqual(rows.rows, [{ r: '+141*****123', d: '+141*****123' }]);
  } finally {
    await pg.end();
  }
  const after = await fetch(`${router}/v1/notifications/${accepted.id}`, { headers });
  assert.ok(['SENT', 'DELIVERED'].includes(((await after.json()) as { status: string }).status));
});
