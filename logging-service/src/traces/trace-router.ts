import { Router, type RequestHandler } from 'express';
import { logsFor, traceFor } from '../access/tenant-filter';
import { requireViewer, viewerOf, type ReadAccess } from '../access/viewer';
import Joi from 'joi';
import { InvalidQueryError, TraceNotFoundError } from '../errors';
import { storableText } from '../otlp/stored-text';
import type { LogQuery, Store } from '../sinks/store';
import { ASSETS, notFoundPage, PAGE_CSP, WATERFALL_CSS, WATERFALL_JS, waterfallPage } from './waterfall-page';

const TRACE_ID = /^[0-9a-f]{32}$/i;

/** Text PostgreSQL can compare: no control characters (NUL is refused outright), no lone surrogates. */
const text = (max: number) => Joi.string().max(max).custom((v: string, helpers) => (storableText(v) === v && !CONTROL.test(v) ? v : helpers.error('string.text')))
  .messages({ 'string.text': '{{#label}} must not contain control characters or lone surrogates' });
const CONTROL = /[\u0000-\u001f\u007f]/;

const logQuerySchema = Joi.object<LogQuery>({
  traceId: Joi.string().pattern(TRACE_ID).lowercase(),
  service: text(256),
  level: text(32),
  q: text(512),
  limit: Joi.number().integer().min(1).max(1000).default(100),
}).prefs({ abortEarly: false, convert: true });

function traceIdParam(raw: string): string {
  if (!TRACE_ID.test(raw)) throw new InvalidQueryError('traceId must be 32 hexadecimal characters', [{ field: 'traceId', message: 'must be 32 hex characters' }]);
  return raw.toLowerCase();
}

export interface TraceAccess {
  read: ReadAccess;
  /** The HTML view without credentials: only while logging-service listens on loopback. */
  htmlViewOpen: boolean;
}

/**
 * GET /v1/traces/:traceId (JSON), GET /traces/:traceId (HTML waterfall), GET /v1/logs (search).
 * With `access`, reads need a merchant key with the read scope (its own spans only) or the operator
 * credential; without it (tests of the store) they are open.
 */
export function traceRouter(store: Store, access?: TraceAccess): Router {
  const router = Router();
  const open: RequestHandler = (_req, _res, next) => next();
  const viewer = access ? requireViewer(access.read) : open;

  router.get('/v1/traces/:traceId', viewer, async (req, res) => {
    const traceId = traceIdParam(String(req.params.traceId));
    // Another merchant's trace (or the part of a shared trace id that is not ours) is "not found".
    const trace = traceFor(viewerOf(res), await store.getTrace(traceId));
    if (!trace) throw new TraceNotFoundError(traceId);
    res.json(trace);
  });

  router.get('/traces/:traceId', access?.htmlViewOpen === false ? viewer : open, async (req, res) => {
    const raw = String(req.params.traceId);
    const trace = TRACE_ID.test(raw) ? traceFor(viewerOf(res), await store.getTrace(raw.toLowerCase())) : null;
    res.setHeader('content-security-policy', PAGE_CSP);
    res.setHeader('x-content-type-options', 'nosniff');
    if (!trace) {
      res.status(404).type('html').send(notFoundPage(raw));
      return;
    }
    res.type('html').send(waterfallPage(trace));
  });

  for (const [path, type, body] of [[ASSETS.js, 'text/javascript', WATERFALL_JS], [ASSETS.css, 'text/css', WATERFALL_CSS]] as const) {
    router.get(path, (_req, res) => {
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('cache-control', 'public, max-age=300');
      res.type(type).send(body);
    });
  }

  router.get('/v1/logs', viewer, async (req, res) => {
    const { value, error } = logQuerySchema.validate(req.query);
    if (error) throw new InvalidQueryError('Invalid log query', error.details.map((d) => ({ field: d.path.join('.'), message: d.message })));
    const who = viewerOf(res);
    if (who.kind === 'operator') {
      res.json({ logs: await store.searchLogs(value) });
      return;
    }
    // A merchant searches within one trace, and sees only lines on its own spans.
    if (!value.traceId) throw new InvalidQueryError('traceId is required with a merchant key', [{ field: 'traceId', message: 'is required' }]);
    const [logs, trace] = await Promise.all([store.searchLogs(value), store.getTrace(value.traceId)]);
    res.json({ logs: logsFor(who, logs, trace) });
  });

  return router;
}
