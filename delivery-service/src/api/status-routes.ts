import { Router } from 'express';
import type { MessageStore } from '../store/message-store';
import { invalidMessageId, messageNotFound } from '../errors';

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
  return router;
}
