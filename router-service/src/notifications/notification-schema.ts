import Joi from 'joi';
import { LIMITS, RFC3339, type Channel, type Priority } from '@ca/contracts';
import { isRealDate } from '../messages/schedule';
import { TEMPLATE_ID } from '../templates/template-schema';
import { USER_ID } from '../users/user-schema';

/** The seed's notification types (upper case as the seed writes them; lower case is taken too). */
export const NOTIFICATION_TYPES = ['SMS', 'EMAIL', 'PUSH', 'WHATSAPP'] as const;
export const NOTIFICATION_PRIORITIES = ['HIGH', 'MEDIUM', 'LOW'] as const;

/** POST /v1/notifications body, exactly the seed's request. */
export interface NotificationRequest {
  userId: string;
  type: (typeof NOTIFICATION_TYPES)[number];
  templateId: string;
  templateParams: Record<string, unknown>;
  priority: (typeof NOTIFICATION_PRIORITIES)[number];
  correlationId?: string;
  /** Not the seed's: send no earlier than this (as on POST /v1/messages); quiet hours may move it later. */
  sendAt?: string;
}

export const notificationSchema = Joi.object<NotificationRequest>({
  userId: Joi.string().pattern(USER_ID).required().messages({ 'string.pattern.base': '"userId" must be 1-128 characters [A-Za-z0-9._~:@+-]' }),
  type: Joi.string().valid(...NOTIFICATION_TYPES).insensitive().required(),
  templateId: Joi.string().pattern(TEMPLATE_ID).required().messages({ 'string.pattern.base': '"templateId" must be 1-128 characters [A-Za-z0-9._-]' }),
  templateParams: Joi.object().default({}),
  priority: Joi.string().valid(...NOTIFICATION_PRIORITIES).insensitive().default('MEDIUM'),
  correlationId: Joi.string().min(1).max(LIMITS.correlationId).pattern(/[\u0000-\u001F\u007F]/, { invert: true, name: 'control characters' }),
  sendAt: Joi.string().pattern(RFC3339).custom((value: string, helpers) => (isRealDate(value) ? value : helpers.error('date.real')))
    .messages({ 'string.pattern.base': '"sendAt" must be an RFC 3339 date-time with an offset (e.g. 2030-01-01T09:00:00Z)', 'date.real': '"sendAt" must be a real date' }),
}).required().unknown(false).prefs({ abortEarly: false, convert: false });

export function channelOf(type: string): Channel {
  return type.toLowerCase() as Channel;
}

export function priorityOf(priority: string): Priority {
  return priority.toLowerCase() as Priority;
}
