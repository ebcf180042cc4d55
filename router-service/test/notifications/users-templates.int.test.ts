import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBroker } from '../support/kafka';
import { AUTH, call, countRows, startRouter } from '../support/router-harness';
import { notify, ORDER_SHIPPED, postTemplate, putUser, USER_42 } from './support';

const brokers = useBroker();

test('users: PUT creates then replaces, GET reads, invalid fields are all named, security cannot be opted out of', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const created = await putUser(h.url, 'user-42', USER_42);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual((created.body.addresses as Record<string, string[]>).sms, ['+14155550100', '+14155550101']);
  assert.deepEqual(created.body.preferences, { optOut: { channels: [], categories: [] } });

  const replaced = await putUser(h.url, 'user-42', { addresses: { email: ['j@example.com'] }, locale: 'de-AT' });
  assert.equal(replaced.status, 200);
  const read = await call(h.url, 'GET', '/v1/users/user-42', AUTH);
  assert.equal(read.status, 200);
  assert.deepEqual(read.body.addresses, { email: ['j@example.com'], sms: [], whatsapp: [], push: [] });
  assert.equal(read.body.locale, 'de-AT');
  assert.equal(read.body.timeZone, null, 'PUT replaces the whole profile');

  const bad = await putUser(h.url, 'user-43', {
    addresses: { sms: ['0151 123'], fax: ['1'] }, timeZone: '+02:00',
    preferences: { optOut: { categories: ['marketing', 'security'] } },
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'VALIDATION_FAILED');
  const fields = (bad.body.errors as Array<{ field: string }>).map((e) => e.field).sort();
  assert.deepEqual(fields, ['addresses.fax', 'addresses.sms.0', 'preferences.optOut.categories.1', 'timeZone']);
  assert.equal((await putUser(h.url, 'user-43', { timeZone: 'Mars/Olympus' })).status, 400);
  assert.equal((await putUser(h.url, 'user-43', { timeZone: 'America/Argentina/Buenos_Aires' })).status, 201);
  assert.equal((await call(h.url, 'GET', '/v1/users/nobody', AUTH)).body.code, 'USER_NOT_FOUND');
});

test('DELETE /v1/users/:id erases addresses and masks them in stored history (router and delivery), keeping the messages', async (t) => {
  let deliveryUp = false;
  const erasures: string[][] = [];
  const fetchStub: typeof fetch = async (input, init) => {
    if (!deliveryUp) throw new TypeError('fetch failed');
    assert.equal(String(input), `${h.settings.deliveryUrl}/internal/v1/erasures`);
    erasures.push((JSON.parse(String(init?.body)) as { messageIds: string[] }).messageIds);
    return new Response('{"masked":2}', { status: 200, headers: { 'content-type': 'application/json' } });
  };
  const h = await startRouter(t, { brokers: brokers(), fetch: fetchStub });
  await putUser(h.url, 'user-42', USER_42);
  await postTemplate(h.url, 'ORDER_SHIPPED', ORDER_SHIPPED);
  for (const [type, orderId] of [['SMS', 'A1'], ['EMAIL', 'A2']] as const) {
    const r = await notify(h.url, { userId: 'user-42', type, templateId: 'ORDER_SHIPPED', templateParams: { orderId, itemName: 'Laptop' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
  }
  const unavailable = await call(h.url, 'DELETE', '/v1/users/user-42', AUTH);
  assert.equal(unavailable.status, 503, 'delivery cannot mask its copy: nothing is erased');
  assert.equal(unavailable.body.code, 'ERASURE_UNAVAILABLE');
  assert.equal((await call(h.url, 'GET', '/v1/users/user-42', AUTH)).status, 200);
  assert.ok((await h.db('messages').pluck('recipient')).includes('+14155550100'));

  deliveryUp = true;
  const erased = await call(h.url, 'DELETE', '/v1/users/user-42', AUTH);
  assert.equal(erased.status, 204);
  assert.deepEqual(erasures.map((ids) => ids.sort()), [(await h.db('messages').pluck('id') as string[]).sort()]);
  const rows = await h.db('messages').select('recipient', 'user_id').orderBy('recipient') as Array<{ recipient: string; user_id: string }>;
  assert.deepEqual(rows.map((r) => r.recipient).sort(), ['+141*****100', 'j***e@example.com']);
  assert.ok(rows.every((r) => r.user_id === 'user-42'), 'history keeps who it was for');
  assert.equal(await countRows(h.db, 'messages'), 2);
  assert.equal((await call(h.url, 'GET', '/v1/users/user-42', AUTH)).status, 404);
  assert.equal((await call(h.url, 'DELETE', '/v1/users/user-42', AUTH)).status, 404);
  const after = await notify(h.url, { userId: 'user-42', type: 'SMS', templateId: 'ORDER_SHIPPED', templateParams: { orderId: 'A3', itemName: 'x' } });
  assert.equal(after.status, 422);
  assert.equal(after.body.reason, 'unknown_user');
});

test('templates: POST makes version 1, PUT the next, GET reads latest or ?version, bad Liquid and file tags are 400', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const v1 = await postTemplate(h.url, 'ORDER_SHIPPED', ORDER_SHIPPED);
  assert.equal(v1.status, 201, JSON.stringify(v1.body));
  assert.equal(v1.body.version, 1);
  assert.equal(v1.body.rateLimit, null);
  const again = await postTemplate(h.url, 'ORDER_SHIPPED', ORDER_SHIPPED);
  assert.equal(again.status, 409);
  assert.equal(again.body.code, 'TEMPLATE_EXISTS');

  const v2 = await call(h.url, 'PUT', '/v1/templates/ORDER_SHIPPED', AUTH, { ...ORDER_SHIPPED, variants: { en: { sms: { text: 'v2 {{ orderId }}' } } } });
  assert.equal(v2.status, 200);
  assert.equal(v2.body.version, 2);
  assert.equal((await call(h.url, 'GET', '/v1/templates/ORDER_SHIPPED', AUTH)).body.version, 2);
  const old = await call(h.url, 'GET', '/v1/templates/ORDER_SHIPPED?version=1', AUTH);
  assert.deepEqual(old.body.variants, ORDER_SHIPPED.variants);
  assert.equal((await call(h.url, 'GET', '/v1/templates/ORDER_SHIPPED?version=3', AUTH)).body.code, 'TEMPLATE_NOT_FOUND');
  const list = await call(h.url, 'GET', '/v1/templates', AUTH);
  assert.deepEqual((list.body.items as Array<{ templateId: string; version: number }>).map((i) => [i.templateId, i.version]), [['ORDER_SHIPPED', 2]]);

  const broken = await postTemplate(h.url, 'BROKEN', { variants: { en: { sms: { text: 'Hi {{ name' }, email: { subject: 'x', text: '{% include "/etc/passwd" %}' } } } });
  assert.equal(broken.status, 400);
  assert.equal(broken.body.code, 'TEMPLATE_INVALID');
  assert.deepEqual((broken.body.errors as Array<{ field: string }>).map((e) => e.field).sort(), ['variants.en.email.text', 'variants.en.sms.text']);
  const noDefault = await postTemplate(h.url, 'NO_DEFAULT', { defaultLocale: 'fr', variants: { en: { sms: { text: 'x' } } } });
  assert.equal(noDefault.status, 400);
});

test('preview renders without sending: locale fallback de-AT → de, HTML escaped, SMS segments, strict params', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  await postTemplate(h.url, 'ORDER_SHIPPED', ORDER_SHIPPED);
  const preview = (body: unknown) => call(h.url, 'POST', '/v1/templates/ORDER_SHIPPED/preview', AUTH, body);

  const de = await preview({ channel: 'sms', locale: 'de-AT', params: { orderId: 'ABC123', itemName: 'Laptop' } });
  assert.equal(de.status, 200, JSON.stringify(de.body));
  assert.equal(de.body.locale, 'de');
  assert.equal(de.body.text, 'Bestellung ABC123 versandt: Laptop');
  assert.deepEqual(de.body.sms, { encoding: 'GSM-7', segments: 1, units: 34 });

  const fallback = await preview({ channel: 'email', locale: 'de-AT', params: { orderId: 'A', itemName: '<script>alert(1)</script>' } });
  assert.equal(fallback.body.locale, 'en', 'de has no email variant: the default locale');
  assert.equal(fallback.body.html, '<p>Your <b>&lt;script&gt;alert(1)&lt;/script&gt;</b> is on its way.</p>');
  assert.equal(fallback.body.text, 'Your <script>alert(1)</script> is on its way.', 'text bodies are not HTML');

  const unicode = await preview({ channel: 'sms', params: { orderId: 'Ω', itemName: '😀'.repeat(40) } });
  assert.equal((unicode.body.sms as { encoding: string }).encoding, 'UCS-2');
  assert.equal((unicode.body.sms as { segments: number }).segments, 2);

  const missing = await preview({ channel: 'email', params: {} });
  assert.equal(missing.status, 400);
  assert.equal(missing.body.code, 'TEMPLATE_PARAMS_MISSING');
  assert.deepEqual(missing.body.missing, ['orderId', 'itemName']);
  assert.equal(await countRows(h.db, 'messages'), 0);
  assert.equal(await countRows(h.db, 'outbox'), 0);
});
