import { Router, type Request } from 'express';
import Joi from 'joi';
import type { Logger } from '@ca/telemetry';
import { principalOf, requireScope } from '../auth/authenticate';
import { streamChanges } from '../transport/server-sent-events';
import { validateWith } from '../validation/validate-with';
import { readDashboard, type DashboardDeps } from './delivery-dashboard';

const querySchema = Joi.object<{ windowMinutes: number }>({
  windowMinutes: Joi.number().integer().min(1).max(1440).default(60),
}).unknown(false);

function windowOf(req: Request): number {
  return validateWith<{ windowMinutes: number }>(querySchema, { ...req.query }).windowMinutes;
}

/**
 * The console's live dashboard (scope `read`), the caller's own merchant only:
 *   GET /v1/dashboard?windowMinutes=60         delivery numbers per channel and provider, now
 *   GET /v1/dashboard/events?windowMinutes=60  the same as server-sent events (`stats`), whenever they change
 */
export function dashboardRouter(deps: DashboardDeps & { logger: Logger; eventsIntervalMs?: number }): Router {
  const router = Router();
  router.get('/', requireScope('read'), async (req, res) => {
    res.json(await readDashboard(deps, principalOf(res).tenantId, windowOf(req)));
  });
  router.get('/events', requireScope('read'), async (req, res) => {
    const windowMinutes = windowOf(req);
    const tenantId = principalOf(res).tenantId;
    // `at` moves every tick; an event is sent when the numbers change, not the clock.
    let lastNumbers = '';
    let lastView: unknown = null;
    await streamChanges(req, res, {
      event: 'stats', intervalMs: deps.eventsIntervalMs ?? 1000, logger: deps.logger,
      read: async () => {
        const view = await readDashboard(deps, tenantId, windowMinutes).catch((err: unknown) => {
          deps.logger.debug('dashboard numbers unavailable', { error: (err as Error).message });
          return null;
        });
        if (!view) return null;
        const numbers = JSON.stringify(view.rows);
        if (numbers !== lastNumbers) {
          lastNumbers = numbers;
          lastView = view;
        }
        return lastView;
      },
    });
  });
  return router;
}
