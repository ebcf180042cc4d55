import express, { Router, type RequestHandler } from 'express';
import { hasServiceToken } from '@ca/http';
import { AdminUnauthorized, FaultsInvalid } from './errors';
import type { Faults } from './fault-registry';
import { validateFaultSet, type FaultName } from './fault-set';

export const FAULTS_ADMIN_PATH = '/admin/faults';

export interface FaultsAdminOptions {
  faults: Faults;
  /** ADMIN_TOKEN; null: the routes do not exist (the service answers 404). */
  token: string | null;
  /** The switches this service acts on; a PUT naming another is refused (400). */
  supported: readonly FaultName[];
  logger: { warn(message: string, meta?: Record<string, unknown>): unknown };
}

/**
 * GET (what is on), PUT (replace: the body is the whole set, absent = off) and DELETE (all off)
 * on /admin/faults, for a bearer of ADMIN_TOKEN. Every change is logged at warn: an operator
 * reading the logs must see that failures were injected on purpose.
 */
export function faultsAdminRouter({ faults, token, supported, logger }: FaultsAdminOptions): Router {
  const router = Router();
  if (token === null) return router;
  const authorize: RequestHandler = (req, _res, next) => next(hasServiceToken(req.get('authorization'), token) ? undefined : new AdminUnauthorized());
  router.route(FAULTS_ADMIN_PATH)
    .all(authorize)
    .get((_req, res) => {
      res.json({ faults: faults.current(), supported });
    })
    .put(express.json({ limit: '16kb' }), (req, res) => {
      const result = validateFaultSet(req.body, supported);
      if (!result.ok) throw new FaultsInvalid(result.errors);
      faults.replace(result.value);
      logger.warn('injected faults changed', { faults: result.value });
      res.json({ faults: faults.current(), supported });
    })
    .delete((_req, res) => {
      faults.clear();
      logger.warn('injected faults cleared');
      res.status(204).end();
    });
  return router;
}
