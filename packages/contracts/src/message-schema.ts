import Joi from 'joi';
import { CHANNELS, PRIORITIES, type Channel, type Priority } from './channels';

/** E.164: a plus, a non-zero country digit, up to 15 digits in all. */
export const E164 = /^\+[1-9]\d{6,14}$/;
/** FCM/APNs/Web Push registration tokens: 32-4096 URL-safe characters (APNs is 64 hex). */
export const DEVICE_TOKEN = /^[A-Za-z0-9_:.-]{32,4096}$/;

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
}

const recipient = Joi.alternatives().conditional('channel', {
  switch: [
    { is: 'email', then: Joi.string().email({ tlds: { allow: false } }).max(LIMITS.email).required()
        .messages({ 'string.email': '"to" must be an email address for channel email' }) },
    { is: Joi.valid('sms', 'whatsapp'), then: Joi.string().pattern(E164).required()
        .messages({ 'string.pattern.base': '"to" must be an E.164 phone number (e.g. +14155550100) for channels sms and whatsapp' }) },
    { is: 'push', then: Joi.string().pattern(DEVICE_TOKEN).required()
        .messages({ 'string.pattern.base': '"to" must be a device token of 32-4096 characters [A-Za-z0-9_:.-] for channel push' }) },
  ],
  otherwise: Joi.string().max(4096).required(),
});

const body = Joi.alternatives().conditional('channel', {
  switch: CHANNELS.map((c) => ({ is: c, then: Joi.string().min(1).max(LIMITS.body[c]).required() })),
  otherwise: Joi.string().min(1).max(LIMITS.body.email).required(),
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
      { is: 'email', then: Joi.string().min(1).max(LIMITS.subject).required() },
      { is: 'push', then: Joi.string().min(1).max(LIMITS.subject) },
    ],
    otherwise: Joi.forbidden(),
  }),
  body,
  priority: Joi.string().valid(...PRIORITIES).default('medium'),
  correlationId: Joi.string().min(1).max(LIMITS.correlationId),
  metadata: Joi.object()
    .pattern(/^[A-Za-z0-9_.-]{1,64}$/, [Joi.string().max(LIMITS.metadataValue), Joi.number(), Joi.boolean()])
    .max(LIMITS.metadataKeys),
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

export const sendRecordSchema = Joi.object<SendRecord>({
  v: Joi.number().valid(1).required(),
  id: Joi.string().guid().required(),
  channel: Joi.string().valid(...CHANNELS).required(),
  to: Joi.string().min(1).max(4096).required(),
  subject: Joi.string().max(LIMITS.subject),
  body: Joi.string().min(1).max(LIMITS.body.email).required(),
  priority: Joi.string().valid(...PRIORITIES).required(),
  correlationId: Joi.string().max(LIMITS.correlationId),
  metadata: Joi.object(),
  createdAt: Joi.string().isoDate().required(),
  traceId: Joi.string().hex().length(32).required(),
  tenantId: Joi.string().guid(),
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
