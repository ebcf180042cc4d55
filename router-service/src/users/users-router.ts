import express, { Router } from 'express';
import type { Knex } from 'knex';
import type { Logger } from '@ca/telemetry';
import { principalOf, requireScope } from '../auth/authenticate';
import type { Clock } from '../clock';
import { UnsupportedMediaType, UserNotFound, ValidationFailed } from '../errors';
import { validateWith } from '../validation/validate-with';
import { eraseUser, findUser, putUser } from './user-store';
import { USER_ID, userSchema, type UserInput } from './user-schema';

const JSON_TYPES = ['application/json', 'application/*+json'];

function userIdOf(raw: unknown): string {
  const id = String(raw);
  if (!USER_ID.test(id)) throw new ValidationFailed([{ field: 'userId', message: '"userId" must be 1-128 characters [A-Za-z0-9._~:@+-]', type: 'string.pattern.base' }]);
  return id;
}

/** PUT/GET/DELETE /v1/users/:userId: recipient profiles of the key's merchant. */
export function usersRouter(deps: { db: Knex; clock: Clock; logger: Logger; bodyLimit: string }): Router {
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
    const masked = await eraseUser(deps.db, principalOf(res).tenantId, userId);
    if (masked === null) throw new UserNotFound(userId);
    deps.logger.info('user erased', { messagesMasked: masked });
    res.status(204).end();
  });

  return router;
}
