import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sendMessageSchema, sendRecordSchema, unsafeKeyPaths, type SendRecord } from '../src';

const LONE_HIGH = '\uD800';
const LONE_LOW = '\uDC00';
const PAIR = '\uD83D\uDE00'; // 😀: a well-formed pair is text

function fieldsOf(schema: typeof sendMessageSchema, value: unknown): string[] {
  const { error } = schema.validate(value, { abortEarly: false });
  return [...new Set((error?.details ?? []).map((d) => d.path.join('.')))].sort();
}

const SMS = { channel: 'sms', to: '+14155550100', body: 'hello' };
const EMAIL = { channel: 'email', to: 'jane@example.com', subject: 'Hi', body: 'hello' };

test('request: NUL, other C0 controls and lone surrogates are refused naming the field', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['NUL in body', { ...SMS, body: 'a\u0000b' }, 'body'],
    ['ESC in body', { ...SMS, body: 'a\u001bb' }, 'body'],
    ['DEL in body', { ...SMS, body: 'a\u007fb' }, 'body'],
    ['lone high surrogate in body', { ...SMS, body: `a${LONE_HIGH}` }, 'body'],
    ['lone low surrogate in body', { ...SMS, body: `${LONE_LOW}a` }, 'body'],
    ['NUL in subject', { ...EMAIL, subject: 'x\u0000' }, 'subject'],
    ['line break in subject', { ...EMAIL, subject: 'x\r\nBcc: evil@example.com' }, 'subject'],
    ['NUL in email recipient', { ...EMAIL, to: 'jane\u0000@example.com' }, 'to'],
    ['NUL in correlationId', { ...SMS, correlationId: 'c\u0000' }, 'correlationId'],
    ['tab in correlationId', { ...SMS, correlationId: 'c\t1' }, 'correlationId'],
    ['NUL in a metadata value', { ...SMS, metadata: { k: 'v\u0000' } }, 'metadata.k'],
    ['lone surrogate in a metadata value', { ...SMS, metadata: { k: `v${LONE_HIGH}` } }, 'metadata.k'],
    ['lone surrogate in a metadata key', { ...SMS, metadata: { [`k${LONE_HIGH}`]: 'v' } }, `metadata.k${LONE_HIGH}`],
  ];
  for (const [name, body, field] of cases) {
    assert.deepEqual(fieldsOf(sendMessageSchema, body), [field], name);
    const { error } = sendMessageSchema.validate(body, { abortEarly: false });
    assert.match(error?.details[0]?.message ?? '', /must not contain|not allowed|must be/, name);
  }
});

test('request: tabs and line breaks in a body, and well-formed astral characters anywhere, are text', () => {
  for (const body of [{ ...SMS, body: 'line 1\r\nline 2\tend' }, { ...EMAIL, subject: `Hi ${PAIR}`, body: `${PAIR}`, metadata: { k: PAIR } }]) {
    assert.deepEqual(fieldsOf(sendMessageSchema, body), [], JSON.stringify(body));
  }
});

test('unsafeKeyPaths finds __proto__, constructor and prototype wherever JSON.parse kept them', () => {
  const parsed: unknown = JSON.parse('{"channel":"sms","__proto__":{"x":1},"metadata":{"constructor":"a","prototype":"b","ok":"c"}}');
  assert.deepEqual(unsafeKeyPaths(parsed).map((p) => p.join('.')).sort(), ['__proto__', 'metadata.constructor', 'metadata.prototype']);
  assert.deepEqual(unsafeKeyPaths(JSON.parse('{"a":[{"b":{"__proto__":1}}]}')).map((p) => p.join('.')), ['a.0.b.__proto__']);
  assert.deepEqual(unsafeKeyPaths({ a: 'x', b: [1, 'y'] }), []);
});

function record(extra: Partial<Record<keyof SendRecord, unknown>> = {}): Record<string, unknown> {
  return { v: 1, id: randomUUID(), channel: 'sms', to: '+14155550100', body: 'hi', priority: 'medium', createdAt: new Date().toISOString(), traceId: 'a'.repeat(32), ...extra };
}

test('SendRecord: only the canonical 8-4-12 uuid form, in either case', () => {
  const id = randomUUID();
  assert.equal(sendRecordSchema.validate(record({ id })).error, undefined);
  assert.equal(sendRecordSchema.validate(record({ id: id.toUpperCase() })).error, undefined);
  for (const bad of [`{${id}}`, `[${id}]`, id.replace(/-/g, ':'), id.replace(/-/g, ''), `${id} `, `urn:uuid:${id}`, `${id.slice(0, -1)}g`]) {
    const { error } = sendRecordSchema.validate(record({ id: bad }));
    assert.deepEqual(error?.details.map((d) => d.path.join('.')), ['id'], bad);
  }
  assert.equal(sendRecordSchema.validate(record({ tenantId: id })).error, undefined);
  assert.deepEqual(sendRecordSchema.validate(record({ tenantId: `{${id}}` })).error?.details.map((d) => d.path.join('.')), ['tenantId']);
});

test('SendRecord: no NUL or lone surrogate in any text field or metadata key/value; control characters PostgreSQL stores are kept', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['NUL in body', { body: 'a\u0000' }, 'body'],
    ['NUL in to', { to: '+1415\u0000' }, 'to'],
    ['NUL in subject', { subject: '\u0000' }, 'subject'],
    ['NUL in correlationId', { correlationId: 'x\u0000' }, 'correlationId'],
    ['lone surrogate in body', { body: `a${LONE_LOW}` }, 'body'],
    ['NUL in a metadata value', { metadata: { k: 'v\u0000' } }, 'metadata'],
    ['lone surrogate in a metadata key', { metadata: { [LONE_HIGH]: 'v' } }, 'metadata'],
    ['NUL deep in metadata', { metadata: { k: { n: ['ok', 'x\u0000'] } } }, 'metadata'],
    ['year 0', { createdAt: '0000-01-01T00:00:00Z' }, 'createdAt'],
    ['year past 9999', { createdAt: '+275760-09-13T00:00:00Z' }, 'createdAt'],
  ];
  for (const [name, extra, field] of cases) {
    const { error } = sendRecordSchema.validate(record(extra), { abortEarly: false });
    assert.deepEqual(error?.details.map((d) => d.path.join('.')), [field], name);
  }
  assert.equal(sendRecordSchema.validate(record({ body: 'a\tb\nc\u001b', subject: `x ${PAIR}`, metadata: { k: PAIR, n: 1, b: true } })).error, undefined);
});
