import type { IncomingMessage } from 'node:http';
import { MalformedOtlpError, PayloadTooLargeError } from '../errors';

/** Reads the raw request body, failing as soon as it passes `maxBytes`. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | null, body?: Buffer) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      if (err) {
        req.resume(); // drain what is left so the connection can be reused
        reject(err);
      } else resolve(body!);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) finish(new PayloadTooLargeError(maxBytes));
      else chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => finish(null, Buffer.concat(chunks, size)));
    req.once('aborted', () => finish(new MalformedOtlpError('The request was aborted')));
    req.once('error', (err) => finish(new MalformedOtlpError(`Could not read the body: ${err.message}`)));
  });
}
