import type { IncomingMessage } from 'node:http';
import { BodyTimeoutError, MalformedOtlpError } from '../errors';
import { boundedChunks } from './bounded-chunks';

/**
 * Reads the raw request body, failing as soon as it passes `maxBytes` (413) or is not complete
 * within `timeoutMs` (408: a 1 byte/s upload is cut off in seconds, not at Node's 300 s request
 * timeout). `onBytes` sees every chunk before it is kept and may throw (the ingest gate refusing
 * more bytes). On failure the caller answers and closes the connection; nothing more is read.
 */
export function readBody(req: IncomingMessage, maxBytes: number, timeoutMs: number, onBytes: (bytes: number) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const kept = boundedChunks(maxBytes, onBytes);
    let done = false;
    const finish = (err: Error | null, body?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off('data', onData);
      if (err) {
        req.pause();
        reject(err);
      } else resolve(body!);
    };
    const timer = setTimeout(() => finish(new BodyTimeoutError(timeoutMs)), timeoutMs);
    const onData = (chunk: Buffer) => {
      const stop = kept.add(chunk);
      if (stop) finish(stop);
    };
    req.on('data', onData);
    req.once('end', () => finish(null, kept.concat()));
    req.once('aborted', () => finish(new MalformedOtlpError('The request was aborted')));
    req.once('error', () => finish(new MalformedOtlpError('The request body could not be read')));
  });
}
