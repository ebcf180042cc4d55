import express, { Router } from 'express';
import type { Knex } from 'knex';
import { requireServiceToken } from '@ca/http';
import type { Clock } from '../clock';
import { Unauthorized } from '../errors';
import { hashKey, isWellFormedKey } from './api-key';
import { findActiveKey } from './key-store';

/**
 * POST /internal/v1/keys/introspect {key} (SERVICE_TOKEN only): lets logging-service check a
 * merchant's key without a copy of the keys table. 200 {tenantId, scopes} or 401: the same
 * answer for unknown, revoked and expired keys.
 */
export function introspectRouter(deps: { db: Knex; clock: Clock; serviceToken: string | null }): Router {
  const router = Router();
  router.post('/internal/v1/keys/introspect', requireServiceToken(deps.serviceToken), express.json({ limit: '4kb' }), async (req, res) => {
    const key = (req.body as { key?: unknown } | undefined)?.key;
    if (typeof key !== 'string' || !isWellFormedKey(key)) throw new Unauthorized('malformed');
    const principal = await findActiveKey(deps.db, hashKey(key), deps.clock.now());
    if (!principal) throw new Unauthorized('invalid');
    res.json({ tenantId: principal.tenantId, scopes: principal.scopes });
  });
  return router;
}
