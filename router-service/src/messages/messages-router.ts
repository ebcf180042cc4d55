import express, { Router } from 'express';
import { HTTP_HEADERS, type MessagePage } from '@ca/contracts';
import { UnsupportedMediaType, ValidationFailed } from '../errors';
import { principalOf, requireScope } from '../auth/authenticate';
import { traceOf } from '../tracing/request-trace';
import type { AcceptDeps } from './accept-message';
import { readMessageView, type StatusDeps } from './message-status';
import { selfLink } from './message-links';
import { sendMessage } from './send-message';
import { listMessages, parseMessageQuery } from './message-query';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const JSON_TYPES = ['application/json', 'application/*+json'];

export interface MessagesRouterDeps {
  accept: AcceptDeps;
  status: StatusDeps;
  bodyLimit: string;
  /** Called after each accepted message: wakes the outbox relay. */
  onAccepted: () => void;
}

/** POST /v1/messages, GET /v1/messages (listing) and GET /v1/messages/:id. */
export function messagesRouter(deps: MessagesRouterDeps): Router {
  const router = Router();

  router.post('/', requireScope('send'), express.json({ limit: deps.bodyLimit, type: JSON_TYPES }), async (req, res) => {
    if (!req.is(JSON_TYPES)) throw new UnsupportedMediaType();
    const accepted = await sendMessage(deps, req.body, req.get(HTTP_HEADERS.idempotencyKey), traceOf(res).traceId, principalOf(res).tenantId);
    if (accepted.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(accepted.status).location(selfLink(accepted.body.id)).json(accepted.body);
  });

  router.get('/', requireScope('read'), async (req, res) => {
    const query = parseMessageQuery(req.query);
    const page = await listMessages(deps.status.db, principalOf(res).tenantId, query, deps.status.settings.traceViewUrl);
    const nextCursor = page.hasMore ? page.items.at(-1)?.cursor ?? null : null;
    let next: string | null = null;
    if (nextCursor) {
      const params = new URLSearchParams(req.originalUrl.split('?')[1] ?? '');
      params.set('cursor', nextCursor);
      next = `/v1/messages?${params.toString()}`;
    }
    const body: MessagePage = { items: page.items.map((i) => i.item), nextCursor, links: { next } };
    res.json(body);
  });

  router.get('/:id', requireScope('read'), async (req, res) => {
    const id = String(req.params.id);
    if (!UUID.test(id)) {
      throw new ValidationFailed([{ field: 'id', message: '"id" must be a valid UUID', type: 'string.guid' }]);
    }
    res.json(await readMessageView(deps.status, id.toLowerCase(), principalOf(res).tenantId));
  });

  return router;
}
