import express, { Router, type Response } from 'express';
import { HTTP_HEADERS, type DeferReason, type MessageView } from '@ca/contracts';
import { principalOf, requireScope } from '../auth/authenticate';
import { UnsupportedMediaType, ValidationFailed } from '../errors';
import type { Accepted, AcceptedInfo } from '../messages/accept-message';
import { readMessageView, type StatusDeps } from '../messages/message-status';
import { traceOf } from '../tracing/request-trace';
import type { NotificationDeps } from './accept-notification';
import { sendNotification } from './send-notification';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const JSON_TYPES = ['application/json', 'application/*+json'];

/** The seed's stored fields: GET /v1/notifications/:id. */
export interface NotificationView {
  notificationId: string;
  userId: string | null;
  type: string;
  templateId: string | null;
  templateVersion: number | null;
  status: string;
  priority: string;
  correlationId: string | null;
  createdAt: string;
  lastAttemptedAt: string | null;
  deliveryAttempts: number;
  errorMessage: string | null;
  traceId: string;
  /** When it may go out (the client's sendAt, or later when deferred), or null. */
  sendAt: string | null;
  deferredBy: DeferReason | null;
  links: { self: string; message: string; trace: string | null };
}

export function notificationView(m: MessageView): NotificationView {
  return {
    notificationId: m.id, userId: m.userId ?? null, type: m.channel.toUpperCase(), templateId: m.templateId ?? null,
    templateVersion: m.templateVersion ?? null, status: m.status.toUpperCase(), priority: m.priority.toUpperCase(),
    correlationId: m.correlationId, createdAt: m.createdAt, lastAttemptedAt: m.lastAttemptedAt,
    deliveryAttempts: m.deliveryAttempts, errorMessage: m.errorMessage, traceId: m.traceId, sendAt: m.sendAt ?? null, deferredBy: m.deferredBy ?? null,
    links: { self: `/v1/notifications/${m.id}`, message: m.links.self, trace: m.links.trace },
  };
}

/**
 * RateLimit fields of the per-user policies, after the per-key ones apiRateLimit set: each field is
 * a List, joined into one header line (some clients read only the first line of a repeated header).
 */
function setUserRateHeaders(res: Response, accepted: Accepted): void {
  const add = (name: string, item: string) => {
    const prev = res.getHeader(name);
    res.setHeader(name, prev === undefined ? item : `${String(prev)}, ${item}`);
  };
  for (const { limit, remaining, resetSeconds } of accepted.userLimits ?? []) {
    add('RateLimit-Policy', `"${limit.name}";q=${limit.limit};w=${limit.windowSeconds}`);
    add('RateLimit', `"${limit.name}";r=${remaining};t=${resetSeconds}`);
  }
}

/** POST /v1/notifications (the seed's request) and GET /v1/notifications/:id (the seed's fields). */
export function notificationsRouter(deps: { accept: NotificationDeps; status: StatusDeps; bodyLimit: string; onAccepted: (accepted: AcceptedInfo) => void }): Router {
  const router = Router();

  router.post('/', requireScope('send'), express.json({ limit: deps.bodyLimit, type: JSON_TYPES }), async (req, res) => {
    if (!req.is(JSON_TYPES)) throw new UnsupportedMediaType();
    const accepted = await sendNotification(deps, req.body, req.get(HTTP_HEADERS.idempotencyKey), traceOf(res).traceId, principalOf(res).tenantId);
    if (accepted.replayed) res.setHeader('Idempotent-Replayed', 'true');
    setUserRateHeaders(res, accepted);
    res.status(accepted.status).location(`/v1/notifications/${accepted.body.id}`).json({ ...accepted.body, notificationId: accepted.body.id });
  });

  router.get('/:id', requireScope('read'), async (req, res) => {
    const id = String(req.params.id);
    if (!UUID.test(id)) throw new ValidationFailed([{ field: 'id', message: '"id" must be a valid UUID', type: 'string.guid' }]);
    res.json(notificationView(await readMessageView(deps.status, id.toLowerCase(), principalOf(res).tenantId)));
  });

  return router;
}
