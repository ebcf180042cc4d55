import express, { Router } from 'express';
import type { Knex } from 'knex';
import type { RateLimitPolicy } from '@ca/contracts';
import { principalOf, requireScope } from '../auth/authenticate';
import { UnsupportedMediaType } from '../errors';
import { rateLimitPolicySchema } from '../templates/template-schema';
import { validateWith } from '../validation/validate-with';
import { setTenantUserPolicy, tenantUserPolicy } from './user-rate-limit';

/**
 * GET/PUT/DELETE /v1/rate-policies/user (scope admin): the merchant's per-user limit across all
 * notifications. DELETE goes back to the service default (USER_RATE_*); `limit: 0` is not allowed
 * here, a merchant cannot switch the limit off for itself.
 */
export function userRatePolicyRouter(deps: { db: Knex; defaults: RateLimitPolicy }): Router {
  const router = Router();
  const view = (policy: RateLimitPolicy | null) => ({ ...(policy ?? deps.defaults), source: policy ? 'merchant' : 'default' });

  router.get('/user', async (_req, res) => {
    res.json(view(await tenantUserPolicy(deps.db, principalOf(res).tenantId)));
  });

  router.put('/user', requireScope('admin'), express.json({ limit: '4kb' }), async (req, res) => {
    if (!req.is('application/json')) throw new UnsupportedMediaType();
    const policy = validateWith<RateLimitPolicy>(rateLimitPolicySchema.required(), req.body);
    await setTenantUserPolicy(deps.db, principalOf(res).tenantId, policy);
    res.json(view(policy));
  });

  router.delete('/user', requireScope('admin'), async (_req, res) => {
    await setTenantUserPolicy(deps.db, principalOf(res).tenantId, null);
    res.json(view(null));
  });

  return router;
}
