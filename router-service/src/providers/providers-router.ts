import express, { Router, type Request, type Response } from 'express';
import { currentTraceHeaders } from '@ca/telemetry';
import { principalOf, requireScope } from '../auth/authenticate';
import type { Fetch } from '../messages/delivery-client';
import { DeliveryUnavailable, UnsupportedMediaType } from '../errors';

export interface ProvidersRouterDeps {
  fetch: Fetch;
  settings: { deliveryUrl: string; deliveryTimeoutMs: number; serviceToken: string | null };
}

/**
 * The merchant's provider routes and suppression list. They live in delivery-service (which uses
 * them on every attempt); this is the public face, scoped to the caller's tenant, forwarding to
 * delivery-service's internal API and relaying its answer (problem+json included) as is:
 *   GET    /v1/providers                  (admin)  routes per channel, credentials never shown
 *   PUT    /v1/providers/:channel         (admin)  replace a channel's route
 *   DELETE /v1/providers/:channel         (admin)
 *   GET    /v1/suppressions?channel=&limit= (read)
 *   DELETE /v1/suppressions/:channel/:recipient (admin)  lift a suppression
 *   GET    /v1/dead-letters, /v1/dead-letters/:id (read)  failed and dead-lettered messages
 *   POST   /v1/dead-letters/:id/redrive   (send)   send it again: same id, same trace, idempotent
 */
export function providersRouter(deps: ProvidersRouterDeps): Router {
  const router = Router();

  async function forward(req: Request, res: Response, path: string, body?: unknown): Promise<void> {
    const tenantId = principalOf(res).tenantId;
    const query = new URLSearchParams();
    for (const key of ['channel', 'limit']) if (typeof req.query[key] === 'string') query.set(key, req.query[key] as string);
    const url = `${deps.settings.deliveryUrl}/internal/v1/tenants/${encodeURIComponent(tenantId)}${path}${query.size ? `?${query}` : ''}`;
    let answer: globalThis.Response;
    try {
      answer = await deps.fetch(url, {
        method: req.method,
        headers: {
          accept: 'application/json',
          ...currentTraceHeaders(),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(deps.settings.serviceToken ? { authorization: `Bearer ${deps.settings.serviceToken}` } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(deps.settings.deliveryTimeoutMs),
      });
    } catch {
      throw new DeliveryUnavailable();
    }
    // Its 4xx answers are the caller's (validation, not found); anything else is an outage here.
    if (answer.status >= 500 || answer.status === 401) {
      await answer.body?.cancel();
      throw new DeliveryUnavailable();
    }
    const text = await answer.text();
    res.status(answer.status);
    const type = answer.headers.get('content-type');
    if (type) res.type(type);
    res.send(text);
  }

  const seg = (s: string) => encodeURIComponent(s);
  router.get('/providers', requireScope('admin'), (req, res) => forward(req, res, '/providers'));
  router.put('/providers/:channel', requireScope('admin'), express.json({ limit: '64kb', type: () => true }), (req, res) => {
    if (!req.is(['application/json', 'application/*+json'])) throw new UnsupportedMediaType();
    return forward(req, res, `/providers/${seg(req.params.channel as string)}`, req.body);
  });
  router.delete('/providers/:channel', requireScope('admin'), (req, res) => forward(req, res, `/providers/${seg(req.params.channel as string)}`));
  router.get('/suppressions', requireScope('read'), (req, res) => forward(req, res, '/suppressions'));
  router.delete('/suppressions/:channel/:recipient', requireScope('admin'), (req, res) => forward(req, res, `/suppressions/${seg(req.params.channel as string)}/${seg(req.params.recipient as string)}`));
  router.get('/dead-letters', requireScope('read'), (req, res) => forward(req, res, '/dead-letters'));
  router.get('/dead-letters/:id', requireScope('read'), (req, res) => forward(req, res, `/dead-letters/${seg(req.params.id as string)}`));
  router.post('/dead-letters/:id/redrive', requireScope('send'), (req, res) => forward(req, res, `/dead-letters/${seg(req.params.id as string)}/redrive`));
  return router;
}
