import express, { Router } from 'express';
import Joi from 'joi';
import type { Knex } from 'knex';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '@ca/contracts';
import type { Logger } from '@ca/telemetry';
import { principalOf } from '../auth/authenticate';
import type { Clock } from '../clock';
import { UnsupportedMediaType, ValidationFailed, WebhookNotFound, WebhookUrlRefused } from '../errors';
import { checkDestination, DestinationRefused, systemResolver, type DestinationPolicy, type Resolver } from './ssrf';
import { createEndpoint, deleteEndpoint, getEndpoint, listDeliveries, listEndpoints } from './webhook-store';

export interface WebhooksRouterDeps {
  db: Knex;
  clock: Clock;
  logger: Logger;
  policy: DestinationPolicy;
  resolve?: Resolver;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const JSON_TYPES = ['application/json', 'application/*+json'];

const createSchema = Joi.object<{ url: string; events: WebhookEventType[]; description?: string }>({
  url: Joi.string().uri({ scheme: ['http', 'https'] }).max(2000).required(),
  events: Joi.array().items(Joi.string().valid(...WEBHOOK_EVENT_TYPES)).min(1).unique().required(),
  description: Joi.string().max(200),
}).unknown(false);

const limitSchema = Joi.number().integer().min(1).max(200).default(50);

function endpointId(raw: string): string {
  if (!UUID.test(raw)) throw new ValidationFailed([{ field: 'id', message: '"id" must be a valid UUID', type: 'string.guid' }]);
  return raw.toLowerCase();
}

/**
 * /v1/webhooks (admin scope): a merchant's status webhook endpoints and their delivery logs. Every
 * query is scoped to the caller's tenant (another merchant's id is "not found"). The signing secret
 * is in the 201 body only. The URL is checked against the SSRF policy here and again at each send.
 */
export function webhooksRouter(deps: WebhooksRouterDeps): Router {
  const router = Router();
  const json = express.json({ limit: '16kb', type: JSON_TYPES });

  router.post('/', (req, _res, next) => next(req.is(JSON_TYPES) ? undefined : new UnsupportedMediaType()), json, async (req, res) => {
    const { value, error } = createSchema.validate(req.body ?? {}, { abortEarly: false, convert: false });
    if (error) throw new ValidationFailed(error.details.map((d) => ({ field: d.path.join('.'), message: d.message, type: d.type })));
    try {
      await checkDestination(value.url, deps.policy, deps.resolve ?? systemResolver);
    } catch (err) {
      if (err instanceof DestinationRefused) throw new WebhookUrlRefused(err.reason);
      throw err;
    }
    const { tenantId } = principalOf(res);
    const created = await createEndpoint(deps.db, { tenantId, url: value.url, events: value.events, description: value.description, now: deps.clock.now() });
    deps.logger.info('webhook endpoint created', { tenantId, endpointId: created.view.id, events: value.events });
    res.status(201).location(`/v1/webhooks/${created.view.id}`).json({ ...created.view, secret: created.secret });
  });

  router.get('/', async (_req, res) => {
    res.json({ data: await listEndpoints(deps.db, principalOf(res).tenantId) });
  });

  router.get('/:id', async (req, res) => {
    const id = endpointId(req.params.id as string);
    const found = await getEndpoint(deps.db, principalOf(res).tenantId, id);
    if (!found) throw new WebhookNotFound(id);
    const { secret: _secret, ...view } = found;
    res.json(view);
  });

  router.delete('/:id', async (req, res) => {
    const id = endpointId(req.params.id as string);
    if (!(await deleteEndpoint(deps.db, principalOf(res).tenantId, id))) throw new WebhookNotFound(id);
    res.status(204).end();
  });

  router.get('/:id/deliveries', async (req, res) => {
    const id = endpointId(req.params.id as string);
    const { value: limit, error } = limitSchema.validate(req.query.limit);
    if (error) throw new ValidationFailed([{ field: 'limit', message: error.message, type: error.details[0]?.type ?? 'number.base' }]);
    const tenantId = principalOf(res).tenantId;
    if (!(await getEndpoint(deps.db, tenantId, id))) throw new WebhookNotFound(id);
    res.json({ data: await listDeliveries(deps.db, tenantId, id, limit as number) });
  });

  return router;
}
