import Joi from 'joi';
import { CHANNELS, DEVICE_TOKEN, E164, LIMITS, MANDATORY_CATEGORIES, type Channel } from '@ca/contracts';

/** A client's user id: what its own system calls the user (no slash, so it fits a path segment). */
export const USER_ID = /^[A-Za-z0-9._~:@+-]{1,128}$/;
/** BCP 47 language tag, loosely: `en`, `de-AT`, `zh-Hant-TW`. */
export const LOCALE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/;
/** A template category (also what users opt out of): lower-case slug. */
export const CATEGORY = /^[a-z0-9_-]{1,64}$/;
const MAX_ADDRESSES = 10;

export interface UserInput {
  addresses: Record<Channel, string[]>;
  locale: string | null;
  timeZone: string | null;
  preferences: { optOut: { channels: Channel[]; categories: string[] } };
}

/** An IANA zone name Node's ICU knows (`Europe/Berlin`, `UTC`); offsets like `+02:00` are not zones. */
export function isIanaTimeZone(value: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(value)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const addressList = (item: Joi.StringSchema) => Joi.array().items(item).max(MAX_ADDRESSES).unique().default([]);

/** PUT /v1/users/:userId body. Every field is replaced (PUT semantics); absent lists are empty. */
export const userSchema = Joi.object<UserInput>({
  addresses: Joi.object({
    email: addressList(Joi.string().email({ tlds: { allow: false } }).max(LIMITS.email)),
    sms: addressList(Joi.string().pattern(E164).messages({ 'string.pattern.base': '{{#label}} must be an E.164 phone number (e.g. +14155550100)' })),
    whatsapp: addressList(Joi.string().pattern(E164).messages({ 'string.pattern.base': '{{#label}} must be an E.164 phone number (e.g. +14155550100)' })),
    push: addressList(Joi.string().pattern(DEVICE_TOKEN).messages({ 'string.pattern.base': '{{#label}} must be a device token of 32-4096 characters [A-Za-z0-9_:.-]' })),
  }).default({}),
  locale: Joi.string().pattern(LOCALE).allow(null).default(null).messages({ 'string.pattern.base': '{{#label}} must be a BCP 47 language tag (e.g. en, de-AT)' }),
  timeZone: Joi.string().max(64).custom((value: string, helpers) => (isIanaTimeZone(value) ? value : helpers.error('any.invalid')))
    .allow(null).default(null).messages({ 'any.invalid': '{{#label}} must be an IANA time zone (e.g. Europe/Berlin)' }),
  preferences: Joi.object({
    optOut: Joi.object({
      channels: Joi.array().items(Joi.string().valid(...CHANNELS)).unique().default([]),
      categories: Joi.array().items(Joi.string().pattern(CATEGORY).invalid(...MANDATORY_CATEGORIES)
        .messages({ 'any.invalid': '{{#label}} cannot be opted out of: {{#value}} messages always reach the user' })).unique().max(50).default([]),
    }).default({}),
  }).default({}),
}).required().unknown(false).prefs({ abortEarly: false, convert: false });
