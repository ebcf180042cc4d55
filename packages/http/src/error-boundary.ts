import type { ErrorRequestHandler, Express, Request, RequestHandler } from 'express';
import express from 'express';
import { HttpProblem, sendProblem } from './problem';
import { allowedMethods } from './allowed-methods';

/** The logger the edge writes to (a winston logger fits). */
export interface EdgeLogger {
  error(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
  debug(message: string, meta?: Record<string, unknown>): unknown;
}

/**
 * Errors raised by the body parser (body-parser / raw-body `type`) and the router, mapped to the
 * status they chose and a stable code. Anything with a 4xx status not listed keeps its status as
 * BAD_REQUEST-like `CLIENT_ERROR`; only errors without a 4xx status are ours (500).
 */
const PARSER_ERRORS: Record<string, { status: number; code: string; title: string; detail: string }> = {
  'entity.parse.failed': { status: 400, code: 'MALFORMED_JSON', title: 'Malformed JSON', detail: 'The request body is not valid JSON' },
  'entity.too.large': { status: 413, code: 'PAYLOAD_TOO_LARGE', title: 'Payload too large', detail: 'The request body is larger than this service accepts' },
  'encoding.unsupported': { status: 415, code: 'UNSUPPORTED_ENCODING', title: 'Unsupported content encoding', detail: 'Send the body as identity, gzip, deflate or br' },
  'charset.unsupported': { status: 415, code: 'UNSUPPORTED_CHARSET', title: 'Unsupported charset', detail: 'Send the body as UTF-8' },
  'request.aborted': { status: 400, code: 'REQUEST_ABORTED', title: 'Request aborted', detail: 'The client closed the request before its body was read' },
  'request.size.invalid': { status: 400, code: 'BODY_LENGTH_MISMATCH', title: 'Body length mismatch', detail: 'The body length does not match Content-Length' },
};

const CORRUPT_BODY = { code: 'MALFORMED_CONTENT_ENCODING', title: 'Malformed content encoding', detail: 'The compressed body is corrupt or truncated' };
const BAD_PATH = { code: 'MALFORMED_PATH', title: 'Malformed path', detail: 'The request path has an invalid percent-encoding' };

/** An error the client caused, as the problem to answer; null when the error is ours. */
export function clientProblem(err: unknown): HttpProblem | null {
  if (err instanceof HttpProblem) return err.status < 500 ? err : null;
  if (!err || typeof err !== 'object') return null;
  const e = err as { type?: unknown; status?: unknown; statusCode?: unknown; code?: unknown };
  const known = typeof e.type === 'string' ? PARSER_ERRORS[e.type] : undefined;
  if (known) return new HttpProblem(known.status, known.code, known.title, known.detail);
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 0;
  if (status < 400 || status > 499) return null;
  // zlib errors (Z_DATA_ERROR, Z_BUF_ERROR: corrupt or truncated gzip/deflate/br) come with 400.
  if (typeof e.code === 'string' && /^(Z_|ERR__?BROTLI|ERR_ZSTD)/.test(e.code)) return new HttpProblem(status, CORRUPT_BODY.code, CORRUPT_BODY.title, CORRUPT_BODY.detail);
  if (err instanceof URIError) return new HttpProblem(status, BAD_PATH.code, BAD_PATH.title, BAD_PATH.detail);
  return new HttpProblem(status, 'BAD_REQUEST', 'Bad request');
}

/**
 * The last error handler of every service. A client's mistake keeps the status the parser or
 * router chose and is logged at debug, one line, no stack and no message text (a JSON parse error
 * quotes the body, which may hold a recipient). A 5xx problem a handler chose (503 storage down) is
 * answered as is. Anything else is our bug: 500, logged at error with its stack, never in the body.
 */
export function errorBoundary(logger: EdgeLogger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const problem = clientProblem(err);
    const line = { method: req.method, path: safePath(req) };
    if (problem) {
      logger.debug('request refused', { ...line, status: problem.status, code: problem.code });
    } else if (err instanceof HttpProblem) {
      logger.info('request not served', { ...line, status: err.status, code: err.code });
    } else {
      logger.error('unhandled error', { ...line, error: (err as Error)?.message, stack: (err as Error)?.stack });
    }
    if (res.headersSent) {
      // Too late for a problem body: cut the connection so the client sees a failure, not a truncated 200.
      req.socket.destroy();
      return;
    }
    sendProblem(res, problem ?? (err instanceof HttpProblem ? err : new HttpProblem(500, 'INTERNAL', 'Internal error', 'An unexpected error occurred; it has been logged')));
  };
}

/** Unknown path → 404 NOT_FOUND; a known path with another method → 405 METHOD_NOT_ALLOWED + Allow. */
export function routeFallback(app: Express): RequestHandler {
  return (req, _res, next) => {
    const methods = allowedMethods(app, req.path);
    if (methods.length > 0) {
      next(new HttpProblem(405, 'METHOD_NOT_ALLOWED', 'Method not allowed', `${req.method} is not allowed on this path`, {}, { Allow: methods.join(', ') }));
      return;
    }
    next(new HttpProblem(404, 'NOT_FOUND', 'Not found', `${req.method} ${safePath(req)} does not exist`));
  };
}

/** Headers every response carries, whatever answers it. */
export function edgeHeaders(): RequestHandler {
  return (_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  };
}

/**
 * An express app with the edge every service shares in front (nosniff, no x-powered-by).
 * Mount the service's routers, then call `sealServiceApp` to add 404/405 and the error boundary.
 */
export function createServiceApp(): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(edgeHeaders());
  return app;
}

export function sealServiceApp(app: Express, logger: EdgeLogger): void {
  app.use(routeFallback(app));
  app.use(errorBoundary(logger));
}

/** The path as sent, bounded (a log line and a problem detail never carry an unbounded path). */
function safePath(req: Request): string {
  const p = req.path;
  return p.length > 200 ? `${p.slice(0, 200)}…` : p;
}
