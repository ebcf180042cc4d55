import express, { Router } from 'express';
import type { MessageStore } from '../store/message-store';
import { invalidMessageId, invalidMessageIds, messageNotFound } from '../errors';

const MAX_IDS = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The delivery half of a message's status, read by router-service (API composition). Internal:
 * it returns the unmasked provider message id but never the recipient or body.
 */
export function statusRoutes(store: MessageStore): Router {
  const router = Router();
  router.get('/internal/v1/messages/:id', async (req, res) => {
    const id = req.params.id;
    if (!UUID.test(id)) throw invalidMessageId();
    const view = await store.view(id.toLowerCase());
    if (!view) throw messageNotFound(id);
    res.json(view);
  });
  // Many messages' statuses at once (router-service's campaign counts): { ids: [...] } → { statuses: [{ id, status }] }.
  router.post('/internal/v1/message-statuses', express.json({ limit: '64kb' }), async (req, res) => {
    const ids = (req.body as { ids?: unknown } | undefined)?.ids;
    if (!Array.isArray(ids) || ids.length > MAX_IDS || !ids.every((id) => typeof id === 'string' && UUID.test(id))) throw invalidMessageIds();
    res.json({ statuses: await store.statuses(ids.map((id: string) => id.toLowerCase())) });
  });
  return router;
}
