import express, { Router } from 'express';
import { HTTP_HEADERS } from '@ca/contracts';
import { IdempotencyKeyInvalid, UnsupportedMediaType, ValidationFailed } from '../errors';
import { principalOf, requireScope } from '../auth/authenticate';
import { isValidIdempotencyKey } from '../dedup/idempotency-keys';
import { traceOf } from '../tracing/request-trace';
import { acceptMessage, type AcceptDeps } from './accept-message';
import { acceptBatch } from './accept-batch';
import { cancelMessage, type CancelDeps } from './cancel-message';
import { readMessageView, type StatusDeps } from './message-status';
import { selfLink } from './message-links';
import { validateMessage } from './validate-message';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
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
  onAccepted: (accepted: { channel: string; tenantId: string }) => void;
}

/** POST /v1/messages, POST /v1/messages/batch, GET /v1/messages/:id, cancel (POST …/:id/cancel, DELETE …/:id). */
export function messagesRouter(deps: MessagesRouterDeps): Router {
  const router = Router();

  router.post('/', requireScope('send'), express.json({ limit: deps.bodyLimit, type: JSON_TYPES }), async (req, res) => {
    if (!req.is(JSON_TYPES)) throw new UnsupportedMediaType();
    const rawKey = req.get(HTTP_HEADERS.idempotencyKey);
    if (rawKey !== undefined && !isValidIdempotencyKey(rawKey)) throw new IdempotencyKeyInvalid();
    const message = await validateMessage(req.body);
    const accepted = await acceptMessage(deps.accept, message, rawKey, traceOf(res).traceId, principalOf(res).tenantId);
    if (!accepted.replayed) deps.onAccepted({ channel: message.channel, tenantId: principalOf(res).tenantId });
    else res.setHeader('Idempotent-Replayed', 'true');
    res.status(accepted.status).location(selfLink(accepted.body.id)).json(accepted.body);
  });

  // Before /:id, so "batch" is never read as an id.
  router.post('/batch', requireScope('send'), express.json({ limit: deps.batchBodyLimit, type: JSON_TYPES }), async (req, res) => {
    if (!req.is(JSON_TYPES)) throw new UnsupportedMediaType();
    const result = await acceptBatch({ ...deps.accept, maxItems: deps.batchMaxItems }, req.body, traceOf(res).traceId, principalOf(res).tenantId);
    const items = (req.body as { messages: Array<{ channel: string }> }).messages;
    for (const r of result.results) {
      if ('message' in r && !r.replayed) deps.onAccepted({ channel: items[r.index]!.channel, tenantId: principalOf(res).tenantId });
    }
    res.status(200).json(result);
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
