import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { ResponseSample } from './openapi-check';

/**
 * Wraps a server's request listener so every response it writes is handed to `onResponse` once
 * sent (status, headers, body bytes), whichever client made the request: the test harness checks
 * them all against the OpenAPI document, including requests a test makes with plain fetch or a
 * raw socket (Node's own pre-routing refusals are written to the socket and are not seen).
 */
export function tapResponses(listener: RequestListener, onResponse: (sample: ResponseSample) => void): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    // express rewrites req.url while a mounted router handles it: keep the URL as received.
    const url = req.url ?? '/';
    const chunks: Buffer[] = [];
    const keep = (chunk: unknown, encoding: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : Buffer.from(chunk as Uint8Array));
    };
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.write = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return write(...args);
    }) as ServerResponse['write'];
    res.end = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return end(...args);
    }) as ServerResponse['end'];
    res.once('finish', () => {
      onResponse({ method: req.method ?? 'GET', url, status: res.statusCode, headers: res.getHeaders() as ResponseSample['headers'], body: Buffer.concat(chunks) });
    });
    listener(req, res);
  };
}
