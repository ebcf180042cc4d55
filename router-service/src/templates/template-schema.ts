import Joi from 'joi';
import { CHANNELS, LIMITS, type QuietHours, type RateLimitPolicy, type TemplateChannelVariant } from '@ca/contracts';
import { WALL_TIME } from '../notifications/quiet-hours';
import { CATEGORY, LOCALE } from '../users/user-schema';

/** PASSWORD_RESET, ORDER_SHIPPED_CONFIRMATION, welcome-email.v2 … */
export const TEMPLATE_ID = /^[A-Za-z0-9._-]{1,128}$/;
const MAX_SOURCE = 100_000;

export interface TemplateInput {
  category: string;
  defaultLocale: string;
  variants: Record<string, Partial<Record<(typeof CHANNELS)[number], TemplateChannelVariant>>>;
  rateLimit: RateLimitPolicy | null;
  quietHours: QuietHours | null;
}

const source = Joi.string().min(1).max(MAX_SOURCE);
const subject = Joi.string().min(1).max(LIMITS.subject * 4); // Liquid source; the rendered subject is checked against LIMITS.subject

const channelVariants = Joi.object({
  email: Joi.object({ subject: subject.required(), text: source.required(), html: source }).unknown(false),
  sms: Joi.object({ text: source.required() }).unknown(false),
  whatsapp: Joi.object({ text: source.required() }).unknown(false),
  push: Joi.object({ subject, text: source.required() }).unknown(false),
}).min(1).unknown(false);

export const rateLimitPolicySchema = Joi.object<RateLimitPolicy>({
  limit: Joi.number().integer().min(1).max(1_000_000).required(),
  windowSeconds: Joi.number().integer().min(1).max(86_400).required(),
  onLimit: Joi.string().valid('reject', 'defer').default('reject'),
}).unknown(false);

const wallTime = Joi.string().pattern(WALL_TIME).required().messages({ 'string.pattern.base': '{{#label}} must be a 24-hour time HH:MM (e.g. 21:00)' });

/** `{ start: "21:00", end: "08:00" }`: an empty window (start = end) is refused rather than read as "all day". */
export const quietHoursSchema = Joi.object<QuietHours>({ start: wallTime, end: wallTime })
  .custom((value: QuietHours, helpers) => (value.start === value.end ? helpers.error('quietHours.empty') : value))
  .messages({ 'quietHours.empty': '{{#label}} "start" and "end" must differ' })
  .unknown(false);

/** POST/PUT /v1/templates/:templateId body. */
export const templateSchema = Joi.object<TemplateInput>({
  category: Joi.string().pattern(CATEGORY).default('transactional'),
  defaultLocale: Joi.string().pattern(LOCALE).default('en'),
  variants: Joi.object().pattern(LOCALE, channelVariants).min(1).max(50).required(),
  rateLimit: rateLimitPolicySchema.allow(null).default(null),
  quietHours: quietHoursSchema.allow(null).default(null),
})
  .custom((value: TemplateInput, helpers) => (value.variants[value.defaultLocale] ? value : helpers.error('template.defaultLocale', { locale: value.defaultLocale })))
  .messages({ 'template.defaultLocale': '"defaultLocale" ({{#locale}}) must be one of the locales in "variants"' })
  .required().unknown(false).prefs({ abortEarly: false, convert: false });

/** POST /v1/templates/:templateId/preview body. */
export interface PreviewInput {
  channel: (typeof CHANNELS)[number];
  locale?: string;
  version?: number;
  params: Record<string, unknown>;
}

export const previewSchema = Joi.object<PreviewInput>({
  channel: Joi.string().valid(...CHANNELS).required(),
  locale: Joi.string().pattern(LOCALE),
  version: Joi.number().integer().min(1),
  params: Joi.object().default({}),
}).required().unknown(false).prefs({ abortEarly: false, convert: false });
