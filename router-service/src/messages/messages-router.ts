import express, { Router } from 'express';
import { HTTP_HEADERS, type MessagePage, type Priority } from '@ca/contracts';
import { UnsupportedMediaType, ValidationFailed } from '../errors';
import { principalOf, requireScope } from '../auth/authenticate';
import { traceOf } from '../tracing/request-trace';
import type { AcceptDeps, AcceptedInfo } from './accept-message';
import { acceptBatch } from './accept-batch';
import { cancelMessage, type CancelDeps } from './cancel-message';
import { readMessageView, type StatusDeps } from './message-status';
import { selfLink } from './message-links';
import { sendMessage } from './send-message';
import { listMessages, parseMessageQuery } from './message-query';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const JSON_TYPES = ['application/json', 'application/*+json'];

export interface MessagesRouterDeps {
  accept: AcceptDeps;
  status: StatusDeps;
  cancel: CancelDeps;
  bodyLimit: string;
  /** Body limit of POST /v1/messages/batch (up to batchMaxItems messages). */
  batchBodyLimit: string;
  batchMaxItems: number;
  /** Called after each accepted message (not a replay): wakes the outbox relay, counts it. */
  onAccepted: (accepted: AcceptedInfo) => void;
}

/** POST /v1/messages, POST /v1/messages/batch, GET /v1/messages (listing), GET /v1/messages/:id, cancel (POST …/:id/cancel, DELETE …/:id). */
export function messagesRouter(deps: MessagesRouterDeps): Router {
  const router = Router();

  router.post('/', requireScope('send'), express.json({ limit: deps.bodyLimit, type: JSON_TYPES }), async (req, res) => {
    if (!req.is(JSON_TYPES)) throw new UnsupportedMediaType();
    const accepted = await sendMessage(deps, req.body, req.get(HTTP_HEADERS.idempotencyKey), traceOf(res).traceId, principalOf(res).tenantId);
    if (accepted.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(accepted.status).location(selfLink(accepted.body.id)).json(accepted.body);
  });

  // Before /:id, so "batch" is never read as an id.
  router.post('/batch', requireScope('send'), express.json({ limit: deps.batchBodyLimit, type: JSON_TYPES }), async (req, res) => {
    if (!req.is(JSON_TYPES)) throw new UnsupportedMediaType();
    const result = await acceptBatch({ ...deps.accept, maxItems: deps.batchMaxItems }, req.body, traceOf(res).traceId, principalOf(res).tenantId);
    const items = (req.body as { messages: Array<{ channel: string; priority?: Priority }> }).messages;
    for (const r of result.results) {
      if ('message' in r && !r.replayed) deps.onAccepted({ channel: items[r.index]!.channel, tenantId: principalOf(res).tenantId, priority: items[r.index]!.priority ?? 'medium' });
    }
    res.status(200).json(result);
  });

  router.get('/', requireScope('read'), async (req, res) => {
    const query = parseMessageQuery(req.query);
    const page = await listMessages(deps.status.db, principalOf(res).tenantId, query, { traceViewUrl: deps.status.settings.traceViewUrl, now: (deps.status.clock ?? deps.accept.clock).now() });
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
    res.json(await readMessageView(deps.status, messageId(req.params.id), principalOf(res).tenantId));
  });

  const cancel = async (req: express.Request, res: express.Response) => {
    res.status(200).json(await cancelMessage(deps.cancel, messageId(req.params.id), principalOf(res).tenantId));
  };
  router.post('/:id/cancel', requireScope('send'), cancel);
  router.delete('/:id', requireScope('send'), cancel);

  return router;
}

function messageId(raw: unknown): string {
  const id = String(raw);
  if (!UUID.test(id)) throw new ValidationFailed([{ field: 'id', message: '"id" must be a valid UUID', type: 'string.guid' }]);
  return id.toLowerCase();
}
