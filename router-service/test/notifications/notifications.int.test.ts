import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readRecords, useBroker } from '../support/kafka';
import { AUTH, call, countRows, startRouter } from '../support/router-harness';
import { notify, ORDER_SHIPPED, postTemplate, putUser, USER_42 } from './support';

const brokers = useBroker();
const SEED_REQUEST = {
  userId: 'user-42', type: 'SMS', templateId: 'ORDER_SHIPPED_CONFIRMATION',
  templateParams: { orderId: 'ABC123', itemName: 'Laptop' }, priority: 'HIGH', correlationId: 'corr-1',
};

test('the seed request is accepted: address and locale resolved, template rendered, version recorded, record published', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  await putUser(h.url, 'user-42', { ...USER_42, locale: 'de-AT' });
  await postTemplate(h.url, 'ORDER_SHIPPED_CONFIRMATION', ORDER_SHIPPED);

  const accepted = await notify(h.url, SEED_REQUEST);
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  const id = accepted.body.id as string;
  assert.equal(accepted.body.notificationId, id);
  assert.equal(accepted.headers.get('location'), `/v1/notifications/${id}`);
  assert.match(accepted.headers.get('ratelimit') ?? '', /"user";r=4;t=\d+/);

  const row = await h.db('messages').where({ id }).first() as Record<string, unknown>;
  assert.equal(row.recipient, '+14155550100', 'the first sms address');
  assert.equal(row.body, 'Bestellung ABC123 versandt: Laptop');
  assert.equal(row.priority, 'high');
  assert.deepEqual([row.user_id, row.template_id, row.template_version, row.correlation_id], ['user-42', 'ORDER_SHIPPED_CONFIRMATION', 1, 'corr-1']);

  h.service.relay.start();
  const [record] = await readRecords(brokers(), [h.topics.lane('sms', 'high')], 1);
  assert.equal(JSON.parse(record!.value).body, 'Bestellung ABC123 versandt: Laptop');

  // After an update, new messages record the new version; the old message keeps its own.
  await call(h.url, 'PUT', '/v1/templates/ORDER_SHIPPED_CONFIRMATION', AUTH, { ...ORDER_SHIPPED, variants: { en: { ...ORDER_SHIPPED.variants.en, sms: { text: 'v2 {{ orderId }}' } } } });
  const second = await notify(h.url, { ...SEED_REQUEST, templateParams: { orderId: 'DEF456' } });
  assert.equal(second.status, 202, JSON.stringify(second.body));
  const row2 = await h.db('messages').where({ id: second.body.id as string }).first() as Record<string, unknown>;
  assert.deepEqual([row2.template_version, row2.body], [2, 'v2 DEF456']);

  // Email: subject and HTML rendered and stored; the published record carries the HTML too.
  const email = await notify(h.url, { ...SEED_REQUEST, type: 'EMAIL', templateParams: { orderId: 'X1', itemName: 'R&D <kit>' } });
  assert.equal(email.status, 202, JSON.stringify(email.body));
  const row3 = await h.db('messages').where({ id: email.body.id as string }).first() as Record<string, unknown>;
  assert.equal(row3.subject, 'Order X1 shipped');
  assert.equal(row3.html, '<p>Your <b>R&amp;D &lt;kit&gt;</b> is on its way.</p>');
});

test('a template missing parameters is a 400 naming every one; nothing is stored', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  await putUser(h.url, 'user-42', USER_42);
  await postTemplate(h.url, 'RESET', {
    category: 'security',
    variants: { en: { email: { subject: 'Reset for {{ user.name }}', text: 'Code {{ code }}, valid {{ minutes }} min. {% for l in links %}{{ l.url }}{% endfor %}', html: '<a href="{{ url }}">reset</a>' } } },
  });
  const r = await notify(h.url, { userId: 'user-42', type: 'EMAIL', templateId: 'RESET', templateParams: { minutes: 10, user: {} } });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, 'TEMPLATE_PARAMS_MISSING');
  assert.deepEqual(r.body.missing, ['user.name', 'code', 'links', 'url']);
  assert.match(r.body.detail as string, /user\.name, code, links, url/);
  assert.equal(await countRows(h.db, 'messages'), 0);
});

test('why a notification cannot go out: unknown user/template, no address, opt-outs (security overrides), too long → 422 naming it', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  await postTemplate(h.url, 'NEWS', { category: 'marketing', variants: { en: { sms: { text: 'News {{ n }}' }, push: { text: 'News {{ n }}' } } } });
  await postTemplate(h.url, 'OTP', { category: 'security', variants: { en: { sms: { text: 'Code {{ n }}' } } } });
  await putUser(h.url, 'u1', { addresses: { sms: ['+14155550100'] }, preferences: { optOut: { channels: ['sms'], categories: ['marketing'] } } });
  await putUser(h.url, 'u2', { addresses: { sms: ['+14155550102'], whatsapp: ['+14155550102'] }, preferences: { optOut: { channels: ['sms'] } } });
  const reason = async (body: Record<string, unknown>) => {
    const r = await notify(h.url, { type: 'SMS', templateParams: { n: 1 }, ...body });
    return r.status === 422 ? `${r.body.code}:${r.body.reason as string}` : String(r.status);
  };
  assert.equal(await reason({ userId: 'nobody', templateId: 'NEWS' }), 'NOTIFICATION_UNDELIVERABLE:unknown_user');
  assert.equal(await reason({ userId: 'u1', templateId: 'NOPE' }), 'NOTIFICATION_UNDELIVERABLE:unknown_template');
  assert.equal(await reason({ userId: 'u1', templateId: 'NEWS' }), 'NOTIFICATION_UNDELIVERABLE:opted_out_category');
  assert.equal(await reason({ userId: 'u2', templateId: 'NEWS' }), 'NOTIFICATION_UNDELIVERABLE:opted_out_channel');
  assert.equal(await reason({ userId: 'u2', templateId: 'NEWS', type: 'PUSH' }), 'NOTIFICATION_UNDELIVERABLE:no_address');
  assert.equal(await reason({ userId: 'u2', templateId: 'OTP', type: 'WHATSAPP' }), 'NOTIFICATION_UNDELIVERABLE:no_variant');
  assert.equal(await reason({ userId: 'u1', templateId: 'OTP' }), '202', 'security reaches a user who opted out of sms');
  const long = await notify(h.url, { userId: 'u1', type: 'SMS', templateId: 'OTP', templateParams: { n: 'x'.repeat(1600) } });
  assert.equal(long.status, 422);
  assert.equal(long.body.code, 'RENDERED_MESSAGE_TOO_LONG');
  assert.equal(long.body.segments, 11);
  assert.equal(long.body.encoding, 'GSM-7');
  const invalid = await notify(h.url, { userId: 'u1', type: 'FAX', templateId: 'OTP', priority: 'URGENT', extra: 1 });
  assert.equal(invalid.status, 400);
  assert.deepEqual((invalid.body.errors as Array<{ field: string }>).map((e) => e.field).sort(), ['extra', 'priority', 'type']);
  assert.equal(await countRows(h.db, 'messages'), 1);
});

test('GET /v1/notifications/:id shows the seed fields; GET /v1/messages/:id shows user and template', async (t) => {
  const delivery = { status: 'retrying', deliveryAttempts: 1, lastAttemptedAt: '2030-01-01T00:00:01.000Z', errorMessage: 'provider timeout', attempts: [] };
  const fetchStub: typeof fetch = async (input) => {
    const id = String(input).split('/').pop()!;
    return new Response(JSON.stringify({ id, nextAttemptAt: null, providerMessageId: null, ...delivery }), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  const h = await startRouter(t, { brokers: brokers(), fetch: fetchStub });
  await putUser(h.url, 'user-42', USER_42);
  await postTemplate(h.url, 'ORDER_SHIPPED_CONFIRMATION', ORDER_SHIPPED);
  const accepted = await notify(h.url, SEED_REQUEST);
  const id = accepted.body.id as string;
  const view = await call(h.url, 'GET', `/v1/notifications/${id}`, AUTH);
  assert.equal(view.status, 200);
  assert.deepEqual(
    { ...view.body, createdAt: undefined, traceId: undefined, links: undefined },
    {
      notificationId: id, userId: 'user-42', type: 'SMS', templateId: 'ORDER_SHIPPED_CONFIRMATION', templateVersion: 1, status: 'RETRYING',
      priority: 'HIGH', correlationId: 'corr-1', createdAt: undefined, lastAttemptedAt: '2030-01-01T00:00:01.000Z', deliveryAttempts: 1,
      errorMessage: 'provider timeout', traceId: undefined, links: undefined, sendAt: null, deferredBy: null,
    },
  );
  const message = await call(h.url, 'GET', `/v1/messages/${id}`, AUTH);
  assert.deepEqual([message.body.userId, message.body.templateId, message.body.templateVersion, message.body.to], ['user-42', 'ORDER_SHIPPED_CONFIRMATION', 1, '+141*****100']);
});
