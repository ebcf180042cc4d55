import express, { Router } from 'express';
import Joi from 'joi';
import { CHANNELS, type Channel } from '@ca/contracts';
import { credentialsKeyMissing, invalidProviderRoute, invalidTenantId, providerRouteNotFound, suppressionNotFound, unknownChannel } from '../errors';
import { MissingCredentialsKey, PROVIDER_KINDS, type ProviderConfig, type ProviderConfigStore, type RouteInput } from '../routing/provider-configs';
import type { ProviderRouting } from '../routing/provider-router';
import type { SuppressionStore } from '../store/suppressions';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const url = Joi.string().uri({ scheme: ['http', 'https'] });
const secret = Joi.string().min(1).max(10_000);

/** Settings (stored in clear) and credentials (sealed) each provider kind takes (README "Providers"). */
const KIND_SCHEMAS = {
  smtp: {
    settings: Joi.object({ host: Joi.string().hostname().required(), port: Joi.number().port().required(), secure: Joi.boolean().default(false), requireTls: Joi.boolean().default(false), user: Joi.string().max(500), from: Joi.string().max(500).required(), messageIdDomain: Joi.string().hostname() }),
    credentials: Joi.object({ password: secret }),
  },
  twilio: {
    settings: Joi.object({ accountSid: Joi.string().pattern(/^AC[0-9a-zA-Z]{32}$/).required(), from: Joi.string().max(100).required(), baseUrl: url }),
    credentials: Joi.object({ authToken: secret.required() }),
  },
  fcm: {
    settings: Joi.object({ projectId: Joi.string().max(200).required(), clientEmail: Joi.string().email().required(), tokenUri: url, baseUrl: url }),
    credentials: Joi.object({ privateKey: secret.pattern(/-----BEGIN (RSA )?PRIVATE KEY-----/).required() }),
  },
  simulated: { settings: Joi.object({ baseUrl: url }), credentials: Joi.object({}) },
} as const;

const routeSchema = Joi.object({
  mode: Joi.string().valid('ordered', 'weighted').default('ordered'),
  providers: Joi.array().min(1).max(10).unique('name').items(Joi.object({
    name: Joi.string().pattern(/^[a-z0-9][a-z0-9._-]{0,62}$/).required(),
    kind: Joi.string().valid(...Object.keys(PROVIDER_KINDS)).required(),
    weight: Joi.number().integer().min(0).max(1000).default(1),
    settings: Joi.object().unknown(true).default({}),
    credentials: Joi.object().pattern(Joi.string(), Joi.string()),
  })).required(),
});

/** A stored route as the API shows it: credentials never leave the service, only whether they are set. */
const view = (c: ProviderConfig) => ({ name: c.name, kind: c.kind, weight: c.weight, settings: c.settings, credentialsSet: c.credentialsSealed !== null, updatedAt: c.updatedAt.toISOString() });

export interface ProviderRoutesDeps {
  configs: ProviderConfigStore;
  suppressions: SuppressionStore;
  routing: ProviderRouting;
  clock: { now(): Date };
}

/**
 * Internal API for a tenant's provider routes and suppression list (router-service proxies the
 * public /v1/suppressions; operators configure routes here, README "Providers").
 */
export function providerRoutes(deps: ProviderRoutesDeps): Router {
  const router = Router();
  const tenantOf = (raw: string) => {
    if (!UUID.test(raw)) throw invalidTenantId();
    return raw.toLowerCase();
  };
  const channelOf = (raw: string): Channel => {
    if (!(CHANNELS as readonly string[]).includes(raw)) throw unknownChannel(raw);
    return raw as Channel;
  };

  router.get('/internal/v1/tenants/:tenantId/providers', async (req, res) => {
    const tenantId = tenantOf(req.params.tenantId);
    const configs = await deps.configs.routes(tenantId);
    const states = new Map(deps.routing.states().map((s) => [s.key, s.state]));
    const routes = CHANNELS.flatMap((channel) => {
      const mine = configs.filter((c) => c.channel === channel);
      if (mine.length === 0) return [];
      return [{ channel, mode: mine[0]!.mode, providers: mine.map((c) => ({ ...view(c), circuit: states.get(`${tenantId}/${channel}/${c.name}`) ?? 'closed' })) }];
    });
    res.json({ routes });
  });

  router.put('/internal/v1/tenants/:tenantId/providers/:channel', express.json({ limit: '64kb' }), async (req, res) => {
    const tenantId = tenantOf(req.params.tenantId);
    const channel = channelOf(req.params.channel);
    const { value, error } = routeSchema.validate(req.body, { abortEarly: false });
    if (error) throw invalidProviderRoute('The provider route is invalid', error.details.map((d) => ({ field: d.path.join('.'), message: d.message })));
    const input = value as RouteInput;
    const errors: Array<{ field: string; message: string }> = [];
    input.providers.forEach((p, i) => {
      if (!(PROVIDER_KINDS[p.kind] as readonly string[]).includes(channel)) errors.push({ field: `providers.${i}.kind`, message: `a ${p.kind} provider cannot send ${channel}` });
      const kind = KIND_SCHEMAS[p.kind];
      const s = kind.settings.validate(p.settings, { abortEarly: false });
      for (const d of s.error?.details ?? []) errors.push({ field: `providers.${i}.settings.${d.path.join('.')}`, message: d.message });
      if (!s.error) p.settings = s.value as Record<string, unknown>;
      if (p.credentials) {
        // Never echo a credential value back in an error message.
        const c = kind.credentials.validate(p.credentials, { abortEarly: false, errors: { render: false } });
        for (const d of c.error?.details ?? []) errors.push({ field: `providers.${i}.credentials.${d.path.join('.')}`, message: `invalid (${d.type})` });
      }
    });
    if (errors.length > 0) throw invalidProviderRoute('The provider route is invalid', errors);
    try {
      const stored = await deps.configs.putRoute(tenantId, channel, input, deps.clock.now());
      res.json({ channel, mode: input.mode, providers: stored.map(view) });
    } catch (err) {
      if (err instanceof MissingCredentialsKey) throw credentialsKeyMissing();
      throw err;
    }
  });

  router.delete('/internal/v1/tenants/:tenantId/providers/:channel', async (req, res) => {
    const tenantId = tenantOf(req.params.tenantId);
    const channel = channelOf(req.params.channel);
    if (!(await deps.configs.deleteRoute(tenantId, channel))) throw providerRouteNotFound(channel);
    res.status(204).end();
  });

  router.get('/internal/v1/tenants/:tenantId/suppressions', async (req, res) => {
    const tenantId = tenantOf(req.params.tenantId);
    const channel = typeof req.query.channel === 'string' ? channelOf(req.query.channel) : undefined;
    const limit = Math.min(Math.max(Number(req.query.limit) || 100, 1), 1000);
    res.json({ items: await deps.suppressions.list(tenantId, { ...(channel ? { channel } : {}), limit }) });
  });

  router.delete('/internal/v1/tenants/:tenantId/suppressions/:channel/:recipient', async (req, res) => {
    const tenantId = tenantOf(req.params.tenantId);
    const channel = channelOf(req.params.channel);
    if (!(await deps.suppressions.remove(tenantId, channel, req.params.recipient))) throw suppressionNotFound();
    res.status(204).end();
  });
  return router;
}
