import express, { Router } from 'express';
import Joi from 'joi';
import type { Knex } from 'knex';
import type { Logger } from '@ca/telemetry';
import { principalOf } from '../auth/authenticate';
import { SCOPES, type Scope } from '../auth/api-key';
import { createKey, listKeys, revokeKey, rotateKey } from '../auth/key-store';
import { addSeconds, type Clock } from '../clock';
import { ApiKeyNotFound, UnsupportedMediaType, ValidationFailed } from '../errors';

export interface KeysRouterDeps {
  db: Knex;
  clock: Clock;
  logger: Logger;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEFAULT_OVERLAP_SECONDS = 86_400;
const JSON_TYPES = ['application/json', 'application/*+json'];

const createSchema = Joi.object<{ name?: string; scopes: Scope[]; expiresInSeconds?: number }>({
  name: Joi.string().max(100),
  scopes: Joi.array().items(Joi.string().valid(...SCOPES)).min(1).unique().required(),
  expiresInSeconds: Joi.number().integer().min(60).max(10 * 365 * 86_400),
}).unknown(false);

const rotateSchema = Joi.object<{ overlapSeconds: number }>({
  overlapSeconds: Joi.number().integer().min(0).max(30 * 86_400).default(DEFAULT_OVERLAP_SECONDS),
}).unknown(false);

function validate<T>(schema: Joi.ObjectSchema<T>, body: unknown): T {
  const { value, error } = schema.validate(body ?? {}, { abortEarly: false, convert: false });
  if (error) throw new ValidationFailed(error.details.map((d) => ({ field: d.path.join('.'), message: d.message, type: d.type })));
  return value;
}

function keyId(raw: string): string {
  if (!UUID.test(raw)) throw new ValidationFailed([{ field: 'id', message: '"id" must be a valid UUID', type: 'string.guid' }]);
  return raw.toLowerCase();
}

/**
 * /v1/keys (admin scope): a merchant manages its own keys. Every query is scoped to the caller's
 * tenant, so another merchant's key id is simply "not found". The secret appears in the 201 body
 * only; lists show the prefix.
 */
export function keysRouter(deps: KeysRouterDeps): Router {
  const router = Router();
  const json = express.json({ limit: '16kb', type: JSON_TYPES });
  // A body, when there is one, must be JSON (rotate may be sent without a body).
  const requireJson: express.RequestHandler = (req, _res, next) => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    next(!hasBody || req.is(JSON_TYPES) ? undefined : new UnsupportedMediaType());
  };

  router.get('/', async (_req, res) => {
    res.json({ keys: await listKeys(deps.db, principalOf(res).tenantId) });
  });

  router.post('/', requireJson, json, async (req, res) => {
    const input = validate(createSchema, req.body);
    const now = deps.clock.now();
    const { tenantId } = principalOf(res);
    const created = await createKey(deps.db, {
      tenantId, scopes: input.scopes, name: input.name ?? null, now,
      expiresAt: input.expiresInSeconds ? addSeconds(now, input.expiresInSeconds) : null,
    });
    deps.logger.info('api key created', { tenantId, keyId: created.view.id, prefix: created.view.prefix, scopes: created.view.scopes });
    res.status(201).location(`/v1/keys/${created.view.id}`).json({ ...created.view, key: created.key });
  });

  router.post('/:id/rotate', requireJson, json, async (req, res) => {
    const id = keyId(req.params.id as string);
    const input = validate(rotateSchema, req.body);
    const { tenantId } = principalOf(res);
    const rotated = await rotateKey(deps.db, { tenantId, keyId: id, overlapSeconds: input.overlapSeconds, now: deps.clock.now() });
    if (!rotated) throw new ApiKeyNotFound(id);
    deps.logger.info('api key rotated', { tenantId, keyId: id, newKeyId: rotated.view.id, previousExpiresAt: rotated.previous.expiresAt });
    res.status(201).location(`/v1/keys/${rotated.view.id}`).json({ ...rotated.view, key: rotated.key, previous: rotated.previous });
  });

  router.delete('/:id', async (req, res) => {
    const id = keyId(req.params.id as string);
    const { tenantId } = principalOf(res);
    const revoked = await revokeKey(deps.db, tenantId, id, deps.clock.now());
    if (!revoked) throw new ApiKeyNotFound(id);
    deps.logger.info('api key revoked', { tenantId, keyId: id });
    res.json(revoked);
  });

  return router;
}
