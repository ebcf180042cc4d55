import { createServer as createHttpsServer } from 'node:https';
import { createServer, STATUS_CODES, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE } from './problem';
import type { EdgeLogger } from './error-boundary';

/** How long a client may take, set in each service's config (README "Configuration"). */
export interface HttpTimeouts {
  /** Until the request's headers are complete (slowloris). */
  headersTimeoutMs: number;
  /** Until the whole request, body included, has arrived (slow uploads). */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open between requests. */
  keepAliveTimeoutMs: number;
}

/**
 * Node checks the header and request timeouts on a timer (30 s by default), so a 10 s timeout could
 * fire at 40 s; checking every second keeps the cut-off near the configured value.
 */
const CHECK_INTERVAL_MS = 1000;

/**
 * The HTTP server every service listens with: timeouts set deliberately, and Node's own refusals
 * (malformed request line or headers, headers over 16 KB, timeouts) answered as problem+json like
 * every other refusal, instead of a bare status line.
 */
export function createHttpServer(app: RequestListener, timeouts: HttpTimeouts, logger: EdgeLogger, tls?: { cert: Buffer | string; key: Buffer | string }): Server {
  const options = {
    headersTimeout: timeouts.headersTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    connectionsCheckingInterval: CHECK_INTERVAL_MS,
  };
  // With a certificate: the same server over TLS (an https.Server is an http.Server underneath).
  const server: Server = tls ? createHttpsServer({ ...options, cert: tls.cert, key: tls.key }, app) : createServer(options, app);
  // The response in progress on each socket: once its headers are out, no raw answer may follow.
  const responses = new WeakMap<Socket, ServerResponse>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => responses.set(req.socket, res));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const answer = clientErrorAnswer(err);
    logger.debug('connection refused', { code: err.code ?? 'unknown', status: answer?.status ?? null });
    const res = responses.get(socket);
    if (!answer || !socket.writable || res?.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(rawProblem(answer.status, answer.code, answer.title), () => socket.destroy());
  });
  return server;
}

/** What Node refused and how to say it; null for a connection the client already dropped. */
export function clientErrorAnswer(err: NodeJS.ErrnoException): { status: number; code: string; title: string } | null {
  switch (err.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return null;
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'HEADERS_TOO_LARGE', title: 'Request header fields too large' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, code: 'PAYLOAD_TOO_LARGE', title: 'Chunk extensions too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'REQUEST_TIMEOUT', title: 'Request timeout' };
    default:
      return { status: 400, code: 'MALFORMED_REQUEST', title: 'Malformed HTTP request' };
  }
}

/** A complete HTTP/1.1 response written straight on the socket (there is no ServerResponse). */
export function rawProblem(status: number, code: string, title: string): string {
  const body = JSON.stringify({ type: PROBLEM_TYPE_BASE + code.toLowerCase(), title, status, code });
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    `Content-Type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'X-Content-Type-Options: nosniff',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}
