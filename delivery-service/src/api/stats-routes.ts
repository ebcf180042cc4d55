import { Router } from 'express';
import type { Knex } from 'knex';
import type { Channel } from '@ca/contracts';
import { invalidStatsQuery, invalidTenantId } from '../errors';
import { readDeliveryStats } from '../store/delivery-stats';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function instant(raw: unknown): Date | null {
  if (typeof raw !== 'string') return null;
  const at = new Date(raw);
  return Number.isNaN(at.getTime()) ? null : at;
}

/**
 * GET /internal/v1/tenants/:tenantId/delivery-stats?since=&recentSince= — router-service's live
 * dashboard (it passes the caller's own tenant id; this API is behind the service token).
 */
export function statsRoutes(deps: { db: Knex; defaultProviders: Readonly<Record<Channel, string>> }): Router {
  const router = Router();
  router.get('/internal/v1/tenants/:tenantId/delivery-stats', async (req, res) => {
    if (!UUID.test(req.params.tenantId)) throw invalidTenantId();
    const since = instant(req.query.since);
    const recentSince = instant(req.query.recentSince);
    if (!since || !recentSince) throw invalidStatsQuery();
    res.json({ rows: await readDeliveryStats(deps.db, { tenantId: req.params.tenantId.toLowerCase(), since, recentSince, defaultProviders: deps.defaultProviders }) });
  });
  return router;
}
