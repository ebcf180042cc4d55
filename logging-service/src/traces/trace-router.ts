import { Router } from 'express';
import Joi from 'joi';
import { InvalidQueryError, TraceNotFoundError } from '../errors';
import type { LogQuery, Store } from '../sinks/store';
import { notFoundPage, waterfallPage } from './waterfall-page';

const TRACE_ID = /^[0-9a-f]{32}$/i;

const logQuerySchema = Joi.object<LogQuery>({
  traceId: Joi.string().pattern(TRACE_ID).lowercase(),
  service: Joi.string().max(256),
  level: Joi.string().max(32),
  q: Joi.string().max(512),
  limit: Joi.number().integer().min(1).max(1000).default(100),
}).prefs({ abortEarly: false, convert: true });

function traceIdParam(raw: string): string {
  if (!TRACE_ID.test(raw)) throw new InvalidQueryError('traceId must be 32 hexadecimal characters', [{ field: 'traceId', message: 'must be 32 hex characters' }]);
  return raw.toLowerCase();
}

/** GET /v1/traces/:traceId (JSON), GET /traces/:traceId (HTML waterfall), GET /v1/logs (search). */
export function traceRouter(store: Store): Router {
  const router = Router();

  router.get('/v1/traces/:traceId', async (req, res) => {
    const traceId = traceIdParam(req.params.traceId);
    const trace = await store.getTrace(traceId);
    if (!trace) throw new TraceNotFoundError(traceId);
    res.json(trace);
  });

  router.get('/traces/:traceId', async (req, res) => {
    const raw = req.params.traceId;
    const trace = TRACE_ID.test(raw) ? await store.getTrace(raw.toLowerCase()) : null;
    res.setHeader('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'");
    if (!trace) {
      res.status(404).type('html').send(notFoundPage(raw));
      return;
    }
    res.type('html').send(waterfallPage(trace));
  });

  router.get('/v1/logs', async (req, res) => {
    const { value, error } = logQuerySchema.validate(req.query);
    if (error) throw new InvalidQueryError('Invalid log query', error.details.map((d) => ({ field: d.path.join('.'), message: d.message })));
    res.json({ logs: await store.searchLogs(value) });
  });

  return router;
}
