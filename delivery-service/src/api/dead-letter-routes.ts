import { Router } from 'express';
import { deadLetterNotFound, invalidMessageId, invalidTenantId } from '../errors';
import type { DeadLetterStore } from '../store/dead-letters';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A tenant's dead letters: list, inspect, re-drive (router-service forwards /v1/dead-letters here). */
export function deadLetterRoutes(store: DeadLetterStore, clock: { now(): Date }): Router {
  const router = Router();
  const ids = (tenant: string, id?: string) => {
    if (!UUID.test(tenant)) throw invalidTenantId();
    if (id !== undefined && !UUID.test(id)) throw invalidMessageId();
    return { tenantId: tenant.toLowerCase(), id: id?.toLowerCase() ?? '' };
  };
  router.get('/internal/v1/tenants/:tenantId/dead-letters', async (req, res) => {
    const { tenantId } = ids(req.params.tenantId);
    const limit = Math.min(Math.max(Number(req.query.limit) || 50, 1), 500);
    res.json({ items: await store.list(tenantId, limit) });
  });
  router.get('/internal/v1/tenants/:tenantId/dead-letters/:id', async (req, res) => {
    const { tenantId, id } = ids(req.params.tenantId, req.params.id);
    const found = await store.get(tenantId, id);
    if (!found) throw deadLetterNotFound(id);
    res.json(found);
  });
  router.post('/internal/v1/tenants/:tenantId/dead-letters/:id/redrive', async (req, res) => {
    const { tenantId, id } = ids(req.params.tenantId, req.params.id);
    const result = await store.redrive(tenantId, id, clock.now());
    if (!result.found) throw deadLetterNotFound(id);
    // 202 for the re-drive that happened; 200 for a repeat (idempotent: nothing more was done).
    res.status(result.redriven ? 202 : 200).json({ id, status: result.status, redriven: result.redriven, redrives: result.redrives, traceId: result.traceId });
  });
  return router;
}
