import Joi from 'joi';
import { CHANNELS, PRIORITIES, type Channel, type Priority } from './channels';

/** E.164: a plus, a non-zero country digit, up to 15 digits in all. */
export const E164 = /^\+[1-9]\d{6,14}$/;
/** FCM/APNs/Web Push registration tokens: 32-4096 URL-safe characters (APNs is 64 hex). */
export const DEVICE_TOKEN = /^[A-Za-z0-9_:.-]{32,4096}$/;

/** C0 control characters and DEL: no text field that reaches a header, a subject line or a log needs them. */
const CONTROL = /[\u0000-\u001F\u007F]/;
/** The same, but a message body may carry tabs and line breaks. */
const CONTROL_IN_BODY = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
/** NUL: PostgreSQL text and jsonb cannot store it. */
const NUL = /\u0000/;
/**
 * A UTF-16 surrogate that is not half of a pair (with the `u` flag a pair is one code point, so only
 * a lone one matches): not text; PostgreSQL jsonb refuses it and text columns would store U+FFFD.
 */
export const LONE_SURROGATE = /\p{Cs}/u;
/** The 8-4-12 hex form PostgreSQL's uuid type reads; Joi's guid() also takes {…}, […] and `:` separators. */
export const CANONICAL_UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** Keys that mean something to JavaScript objects; JSON.parse keeps them, Joi drops `__proto__` silently. */
export const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const TEXT_MESSAGES = { 'string.pattern.invert.name': '{{#label}} must not contain {{#name}}' };

/** A string schema refusing what is not storable text: `controls` and lone surrogates. */
function text(schema: Joi.StringSchema, controls: RegExp): Joi.StringSchema {
  return schema
    .pattern(controls, { invert: true, name: controls === NUL ? 'NUL characters' : 'control characters' })
    .pattern(LONE_SURROGATE, { invert: true, name: 'unpaired UTF-16 surrogates' })
    .messages(TEXT_MESSAGES);
}

/**
 * Paths of every own key in `value` (nested objects and arrays included) that is `__proto__`,
 * `constructor` or `prototype`. Run on the parsed body before Joi, which drops `__proto__` without
 * a word: a client sending one gets a 400 naming it instead of a silently different message.
 */
export function unsafeKeyPaths(value: unknown, path: string[] = []): string[][] {
  if (!value || typeof value !== 'object') return [];
  const found: string[][] = [];
  for (const key of Object.keys(value)) {
    const here = [...path, key];
    if (UNSAFE_KEYS.has(key)) found.push(here);
    else found.push(...unsafeKeyPaths((value as Record<string, unknown>)[key], here));
  }
  return found;
}

export const LIMITS = {
  subject: 255,
  body: { email: 100_000, sms: 1_600, whatsapp: 4_096, push: 4_096 } satisfies Record<Channel, number>,
  correlationId: 128,
  metadataKeys: 20,
  metadataValue: 512,
  email: 254,
} as const;

export interface SendMessageRequest {
  channel: Channel;
  to: string;
  subject?: string;
  body: string;
  priority: Priority;
  correlationId?: string;
  metadata?: Record<string, string | number | boolean>;
  /** RFC 3339 date-time: deliver no earlier than this (status `scheduled` until then). */
  sendAt?: string;
}

/**
 * RFC 3339 date-time with an explicit offset (`Z` or ±hh:mm), as `sendAt` takes it. Whether it is
 * in the future and within the horizon is the router's check (it owns the clock).
 */
export const RFC3339 = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d{1,9})?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

const recipient = Joi.alternatives().conditional('channel', {
  switch: [
    { is: 'email', then: text(Joi.string(), CONTROL).email({ tlds: { allow: false } }).max(LIMITS.email).required()
        .messages({ 'string.email': '"to" must be an email address for channel email' }) },
    { is: Joi.valid('sms', 'whatsapp'), then: Joi.string().pattern(E164).required()
        .messages({ 'string.pattern.base': '"to" must be an E.164 phone number (e.g. +14155550100) for channels sms and whatsapp' }) },
    { is: 'push', then: Joi.string().pattern(DEVICE_TOKEN).required()
        .messages({ 'string.pattern.base': '"to" must be a device token of 32-4096 characters [A-Za-z0-9_:.-] for channel push' }) },
  ],
  otherwise: text(Joi.string(), CONTROL).max(4096).required(),
});

const body = Joi.alternatives().conditional('channel', {
  switch: CHANNELS.map((c) => ({ is: c, then: text(Joi.string(), CONTROL_IN_BODY).min(1).max(LIMITS.body[c]).required() })),
  otherwise: text(Joi.string(), CONTROL_IN_BODY).min(1).max(LIMITS.body.email).required(),
});

/**
 * POST /v1/messages body. Email needs a subject; push may carry one (the notification title);
 * SMS and WhatsApp have no subject line, so sending one is an error rather than silently dropped.
 */
export const sendMessageSchema = Joi.object<SendMessageRequest>({
  channel: Joi.string().valid(...CHANNELS).required(),
  to: recipient,
  subject: Joi.when('channel', {
    switch: [
      { is: 'email', then: text(Joi.string(), CONTROL).min(1).max(LIMITS.subject).required() },
      { is: 'push', then: text(Joi.string(), CONTROL).min(1).max(LIMITS.subject) },
    ],
    otherwise: Joi.forbidden(),
  }),
  body,
  priority: Joi.string().valid(...PRIORITIES).default('medium'),
  correlationId: text(Joi.string(), CONTROL).min(1).max(LIMITS.correlationId),
  metadata: Joi.object()
    .pattern(/^[A-Za-z0-9_.-]{1,64}$/, [text(Joi.string(), CONTROL).max(LIMITS.metadataValue), Joi.number(), Joi.boolean()])
    .max(LIMITS.metadataKeys),
  sendAt: Joi.string().pattern(RFC3339).messages({ 'string.pattern.base': '"sendAt" must be an RFC 3339 date-time with an offset (e.g. 2030-01-01T09:00:00Z)' }),
})
  .required()
  .unknown(false)
  .prefs({ abortEarly: false, convert: false, stripUnknown: false });

/** The Kafka record on send.<channel> and send.<channel>.retry (value, JSON). */
export interface SendRecord {
  v: 1;
  id: string;
  channel: Channel;
  to: string;
  subject?: string;
  body: string;
  priority: Priority;
  correlationId?: string;
  metadata?: Record<string, string | number | boolean>;
  createdAt: string;
  traceId: string;
  /** The merchant that sent it (absent only on records written before tenants existed). */
  tenantId?: string;
}

/** A JSON value PostgreSQL jsonb stores: no NUL and no lone surrogate in any key or string. */
const storableJson: Joi.CustomValidator = (value: unknown, helpers) => {
  const bad = unstorablePath(value, []);
  return bad ? helpers.message({ custom: '{{#label}} holds a key or string PostgreSQL cannot store (NUL or unpaired surrogate) at {{#at}}' }, { at: bad }) : value;
};

function unstorablePath(value: unknown, path: string[]): string | null {
  const unstorable = (s: string) => NUL.test(s) || LONE_SURROGATE.test(s);
  if (typeof value === 'string') return unstorable(value) ? path.join('.') || '(value)' : null;
  if (!value || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    if (unstorable(k)) return [...path, JSON.stringify(k)].join('.');
    const inner = unstorablePath(v, [...path, k]);
    if (inner) return inner;
  }
  return null;
}

/**
 * What delivery-service's tables store and nothing else: a record that passes is never refused by
 * PostgreSQL for its shape (uuid column, text without NUL, jsonb, timestamptz years 1-9999), so a
 * poison record is dead-lettered by the schema instead of blocking its partition.
 */
export const sendRecordSchema = Joi.object<SendRecord>({
  v: Joi.number().valid(1).required(),
  id: Joi.string().pattern(CANONICAL_UUID).required().messages({ 'string.pattern.base': '{{#label}} must be a UUID in 8-4-12 hex form' }),
  channel: Joi.string().valid(...CHANNELS).required(),
  to: text(Joi.string(), NUL).min(1).max(4096).required(),
  subject: text(Joi.string(), NUL).max(LIMITS.subject),
  body: text(Joi.string(), NUL).min(1).max(LIMITS.body.email).required(),
  priority: Joi.string().valid(...PRIORITIES).required(),
  correlationId: text(Joi.string(), NUL).max(LIMITS.correlationId),
  metadata: Joi.object().custom(storableJson),
  // isoDate() normalises to toISOString(), which writes years 0 and > 9999 in forms PostgreSQL refuses.
  createdAt: Joi.string().isoDate().pattern(/^(?!0000)\d{4}-/).required().messages({ 'string.pattern.base': '{{#label}} must be a date between years 1 and 9999' }),
  traceId: Joi.string().hex().length(32).required(),
  tenantId: Joi.string().pattern(CANONICAL_UUID).messages({ 'string.pattern.base': '{{#label}} must be a UUID in 8-4-12 hex form' }),
}).unknown(true); // forward compatible: a newer producer may add fields

/** The record on the dead-letter topic (value, JSON). */
export interface DeadLetterRecord {
  v: 1;
  reason: string;
  error: string;
  sourceTopic: string;
  messageId?: string;
  channel?: Channel;
  attempts?: number;
  /** The original record's value: the envelope when it parsed, else the raw text. */
  record: SendRecord | string;
  deadLetteredAt: string;
}
