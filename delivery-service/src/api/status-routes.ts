import express, { Router } from 'express';
import Joi from 'joi';
import { CANONICAL_UUID, CHANNELS, PRIORITIES, type CancelRequest } from '@ca/contracts';
import type { MessageStore } from '../store/message-store';
import { invalidCancelRequest, invalidMessageId, invalidMessageIds, messageNotCancelable, messageNotFound } from '../errors';

const cancelSchema = Joi.object<CancelRequest>({
  tenantId: Joi.string().pattern(CANONICAL_UUID).required(),
  channel: Joi.string().valid(...CHANNELS).required(),
  priority: Joi.string().valid(...PRIORITIES).required(),
  traceId: Joi.string().hex().length(32).required(),
  createdAt: Joi.string().isoDate().required(),
}).required();

const MAX_IDS = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The delivery half of a message's status, read by router-service (API composition). Internal:
 * it returns the unmasked provider message id but never the recipient or body.
 */
export function statusRoutes(store: MessageStore, clock: { now(): Date } = { now: () => new Date() }): Router {
  const router = Router();
  router.get('/internal/v1/messages/:id', async (req, res) => {
    const id = req.params.id;
    if (!UUID.test(id)) throw invalidMessageId();
    const view = await store.view(id.toLowerCase());
    if (!view) throw messageNotFound(id);
    res.json(view);
  });
  // router-service's cancel: canceled (200), or 409 with the status when a provider call was made.
  router.post('/internal/v1/messages/:id/cancel', express.json({ limit: '16kb' }), async (req, res) => {
    const id = req.params.id;
    if (!UUID.test(id)) throw invalidMessageId();
    const { value, error } = cancelSchema.validate(req.body, { abortEarly: false, convert: false });
    if (error) throw invalidCancelRequest(error.message);
    const outcome = await store.cancel(id.toLowerCase(), value, clock.now());
    if (outcome.canceled) res.json({ id: id.toLowerCase(), status: 'canceled' });
    else throw messageNotCancelable(outcome.status);
  });
  // Many messages' statuses at once (router-service's campaign counts): { ids: [...] } → { statuses: [{ id, status }] }.
  router.post('/internal/v1/message-statuses', express.json({ limit: '64kb' }), async (req, res) => {
    const ids = (req.body as { ids?: unknown } | undefined)?.ids;
    if (!Array.isArray(ids) || ids.length > MAX_IDS || !ids.every((id) => typeof id === 'string' && UUID.test(id))) throw invalidMessageIds();
    res.json({ statuses: await store.statuses(ids.map((id: string) => id.toLowerCase())) });
  });
  return router;
}
