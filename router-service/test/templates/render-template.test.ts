import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TemplateView } from '@ca/contracts';
import { localeChain, renderVariant } from '../../src/templates/render-template';
import { smsLength } from '../../src/templates/sms-segments';

test('SMS segments: GSM-7 160 / 153 per part, extension characters count two, anything else is UCS-2 70 / 67', () => {
  assert.deepEqual(smsLength('a'.repeat(160)), { encoding: 'GSM-7', units: 160, segments: 1 });
  assert.deepEqual(smsLength('a'.repeat(161)), { encoding: 'GSM-7', units: 161, segments: 2 });
  assert.equal(smsLength('a'.repeat(306)).segments, 2);
  assert.equal(smsLength('a'.repeat(307)).segments, 3);
  assert.deepEqual(smsLength('€'.repeat(80)), { encoding: 'GSM-7', units: 160, segments: 1 });
  assert.deepEqual(smsLength('€'.repeat(81)), { encoding: 'GSM-7', units: 162, segments: 2 });
  assert.deepEqual(smsLength('Grüße {ok}'), { encoding: 'GSM-7', units: 12, segments: 1 });
  assert.deepEqual(smsLength('ç'.repeat(70)), { encoding: 'UCS-2', units: 70, segments: 1 }, 'ç is not in GSM 03.38 (only Ç is)');
  assert.deepEqual(smsLength('ç'.repeat(71)), { encoding: 'UCS-2', units: 71, segments: 2 });
  assert.deepEqual(smsLength('😀'), { encoding: 'UCS-2', units: 2, segments: 1 }, 'an emoji is two UTF-16 units');
  assert.equal(smsLength('').segments, 0);
});

test('locale chain: most specific first, then the default, case-insensitive, no repeats', () => {
  assert.deepEqual(localeChain('de-AT', 'en'), ['de-at', 'de', 'en']);
  assert.deepEqual(localeChain('zh-Hant-TW', 'en'), ['zh-hant-tw', 'zh-hant', 'zh', 'en']);
  assert.deepEqual(localeChain(null, 'en'), ['en']);
  assert.deepEqual(localeChain('EN-us', 'en'), ['en-us', 'en']);
});

const template = (text: string, html?: string): TemplateView => ({
  templateId: 'T', version: 3, category: 'transactional', defaultLocale: 'en', rateLimit: null, quietHours: null, createdAt: '2030-01-01T00:00:00.000Z',
  variants: { en: { email: { subject: 'Hi {{ user.first }}', text, ...(html ? { html } : {}) } } },
});

test('strict rendering lists every missing name once: nested paths, loops and assigns are not params, filters do not hide one', () => {
  const t = template('{% assign greeting = "Hello" %}{{ greeting }} {{ name | upcase }} {% for item in items %}{{ item.sku }} {{ forloop.index }}{% endfor %} {{ order.total }} {{ name }}', '<b>{{ coupon }}</b>');
  assert.throws(() => renderVariant(t, 'email', 'en', { user: { last: 'x' }, order: {} }), (err: { code: string; missing: string[] }) => {
    assert.equal(err.code, 'TEMPLATE_PARAMS_MISSING');
    assert.deepEqual(err.missing, ['user.first', 'name', 'items', 'order.total', 'coupon']);
    return true;
  });
  const ok = renderVariant(t, 'email', 'en', { user: { first: 'Jo' }, name: 'jo', items: [{ sku: 'A' }], order: { total: 3 }, coupon: '<x>' });
  assert.equal(ok.subject, 'Hi Jo');
  assert.equal(ok.text, 'Hello JO A 1 3 jo');
  assert.equal(ok.html, '<b>&lt;x&gt;</b>');
});

test('parameters cannot reach prototypes or files', () => {
  assert.throws(() => renderVariant(template('{{ p.constructor.name }}'), 'email', 'en', { user: { first: 'a' }, p: {} }), { code: 'TEMPLATE_PARAMS_MISSING' });
  const polluted = JSON.parse('{"user":{"first":"a"},"__proto__":{"x":"y"}}') as Record<string, unknown>;
  assert.throws(() => renderVariant(template('{{ x }}'), 'email', 'en', polluted), { code: 'TEMPLATE_PARAMS_MISSING' });
  assert.throws(() => renderVariant(template('{% for i in (1..100000000) %}a{% endfor %}'), 'email', 'en', { user: { first: 'a' } }), { code: 'NOTIFICATION_UNDELIVERABLE' });
});
