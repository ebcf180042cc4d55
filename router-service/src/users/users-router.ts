import express, { Router } from 'express';
import type { Knex } from 'knex';
import type { Logger } from '@ca/telemetry';
import { principalOf, requireScope } from '../auth/authenticate';
import type { Clock } from '../clock';
import type { Fetch } from '../messages/delivery-client';
import { UnsupportedMediaType, UserNotFound, ValidationFailed } from '../errors';
import { validateWith } from '../validation/validate-with';
import { eraseInDelivery } from './delivery-erasure';
import { eraseUser, findUser, putUser, userMessageIds } from './user-store';
import { USER_ID, userSchema, type UserInput } from './user-schema';

const JSON_TYPES = ['application/json', 'application/*+json'];

function userIdOf(raw: unknown): string {
  const id = String(raw);
  if (!USER_ID.test(id)) throw new ValidationFailed([{ field: 'userId', message: '"userId" must be 1-128 characters [A-Za-z0-9._~:@+-]', type: 'string.pattern.base' }]);
  return id;
}

/** PUT/GET/DELETE /v1/users/:userId: recipient profiles of the key's merchant. */
export interface UsersRouterDeps {
  db: Knex;
  clock: Clock;
  logger: Logger;
  bodyLimit: string;
  /** delivery-service, which holds its own copy of each message's recipient (masked on erasure). */
  delivery: { fetch: Fetch; deliveryUrl: string; timeoutMs: number; serviceToken: string | null };
}

export function usersRouter(deps: UsersRouterDeps): Router {
  const router = Router();

  router.put('/:userId', requireScope('send'), express.json({ limit: deps.bodyLimit, type: JSON_TYPES }), async (req, res) => {
    if (!req.is(JSON_TYPES)) throw new UnsupportedMediaType();
    const userId = userIdOf(req.params.userId);
    const user = validateWith<UserInput>(userSchema, req.body);
    const { view, created } = await putUser(deps.db, { tenantId: principalOf(res).tenantId, userId, user, now: deps.clock.now() });
    res.status(created ? 201 : 200).location(`/v1/users/${encodeURIComponent(userId)}`).json(view);
  });

  router.get('/:userId', requireScope('read'), async (req, res) => {
    const userId = userIdOf(req.params.userId);
    const view = await findUser(deps.db, principalOf(res).tenantId, userId);
    if (!view) throw new UserNotFound(userId);
    res.json(view);
  });

  router.delete('/:userId', requireScope('send'), async (req, res) => {
    const userId = userIdOf(req.params.userId);
    const tenantId = principalOf(res).tenantId;
    if (!(await findUser(deps.db, tenantId, userId))) throw new UserNotFound(userId);
    // delivery-service first: if it cannot mask, nothing is erased and a retried DELETE starts over.
    // A message accepted for this user between the two steps keeps its address in delivery's row.
    await eraseInDelivery(deps.delivery, await userMessageIds(deps.db, tenantId, userId));
    const masked = await eraseUser(deps.db, tenantId, userId);
    if (masked === null) throw new UserNotFound(userId);
    deps.logger.info('user erased', { messagesMasked: masked });
    res.status(204).end();
  });

  return router;
}
