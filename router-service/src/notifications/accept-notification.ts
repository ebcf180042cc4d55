import { ATTR, MANDATORY_CATEGORIES, SPAN, sendMessageSchema, type SendMessageRequest } from '@ca/contracts';
import { inSpan } from '@ca/telemetry';
import { NotificationUndeliverable } from '../errors';
import { acceptMessage, type AcceptDeps, type Accepted } from '../messages/accept-message';
import { tenantUserPolicy, userLimits } from '../ratelimit/user-rate-limit';
import { renderVariant } from '../templates/render-template';
import { findTemplate } from '../templates/template-store';
import { findUser } from '../users/user-store';
import { quietHoursEnd } from './quiet-hours';
import { channelOf, priorityOf, type NotificationRequest } from './notification-schema';

export interface NotificationDeps extends AcceptDeps {
  settings: AcceptDeps['settings'] & { userRateLimit: { limit: number; windowSeconds: number; onLimit: 'reject' | 'defer' } };
}

/**
 * POST /v1/notifications: resolves the user's address for the channel and renders the template
 * for the user's locale at accept time, then hands the result to the same accept path as a raw
 * POST /v1/messages (acceptMessage), with the user, template version and per-user limits. Every
 * reason it cannot go out is a 4xx naming it; nothing is dropped silently.
 */
export async function acceptNotification(deps: NotificationDeps, req: NotificationRequest, idempotencyKey: string | undefined, traceId: string, tenantId: string): Promise<Accepted> {
  const channel = channelOf(req.type);
  const [user, template, tenantPolicy] = await Promise.all([
    findUser(deps.db, tenantId, req.userId),
    findTemplate(deps.db, tenantId, req.templateId),
    tenantUserPolicy(deps.db, tenantId),
  ]);
  if (!user) throw new NotificationUndeliverable('unknown_user', `No user ${req.userId}: PUT /v1/users/${req.userId} first`);
  if (!template) throw new NotificationUndeliverable('unknown_template', `No template ${req.templateId}: POST /v1/templates/${req.templateId} first`);
  // Security messages (password resets, codes) reach the user whatever they opted out of.
  const mandatory = MANDATORY_CATEGORIES.has(template.category);
  if (!mandatory && user.preferences.optOut.categories.includes(template.category)) {
    throw new NotificationUndeliverable('opted_out_category', `User ${req.userId} opted out of ${template.category} messages`);
  }
  if (!mandatory && user.preferences.optOut.channels.includes(channel)) {
    throw new NotificationUndeliverable('opted_out_channel', `User ${req.userId} opted out of ${channel}`);
  }
  const to = user.addresses[channel][0];
  if (to === undefined) throw new NotificationUndeliverable('no_address', `User ${req.userId} has no ${channel} address`);

  const rendered = await inSpan(SPAN.render, { [ATTR.templateId]: template.templateId, [ATTR.templateVersion]: template.version, [ATTR.channel]: channel }, async (span) => {
    const r = renderVariant(template, channel, user.locale, req.templateParams);
    span.setAttribute(ATTR.templateLocale, r.locale);
    return r;
  });
  const message: SendMessageRequest = {
    channel, to, body: rendered.text, priority: priorityOf(req.priority),
    ...(rendered.subject !== null && (channel === 'email' || channel === 'push') ? { subject: rendered.subject } : {}),
    ...(req.correlationId !== undefined ? { correlationId: req.correlationId } : {}),
    ...(req.sendAt !== undefined ? { sendAt: req.sendAt } : {}),
  };
  // The rendered message must pass what a raw send must pass (a parameter may carry a control character).
  const { error } = sendMessageSchema.validate(message);
  if (error) throw new NotificationUndeliverable('rendered_invalid', `The rendered message is not sendable: ${error.details.map((d) => d.message).join('; ')}`);

  // Quiet hours need the user's zone; HIGH priority and mandatory categories (security) go out at any hour.
  const quiet = template.quietHours && user.timeZone && message.priority !== 'high' && !mandatory ? { window: template.quietHours, timeZone: user.timeZone } : null;
  const limits = userLimits({ userId: req.userId, templateId: template.templateId, userPolicy: tenantPolicy ?? deps.settings.userRateLimit, templatePolicy: template.rateLimit });
  return acceptMessage(deps, { ...message, ...(rendered.html !== null && channel === 'email' ? { html: rendered.html } : {}) }, idempotencyKey, traceId, tenantId, {
    fields: { userId: req.userId, templateId: template.templateId, templateVersion: template.version, html: channel === 'email' ? rendered.html : null },
    limits,
    ...(quiet ? { quietHoursEnd: (at: Date) => quietHoursEnd(at, quiet.window, quiet.timeZone) } : {}),
  });
}
