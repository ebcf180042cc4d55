import type { Request, Response } from 'express';
import type { Logger } from '@ca/telemetry';

const HEARTBEAT_MS = 15_000;

/**
 * Server-sent events of a value read server side every `intervalMs`: an event whenever it changed
 * (compared as JSON), a comment line as a keep-alive when nothing did for 15 s. One request per
 * watching page, no polling storm from browsers; the interval stops when the client goes away.
 * `read` returning null skips the tick (the thing went away, or a transient read failure was logged).
 */
export async function streamChanges(req: Request, res: Response, opts: { event: string; intervalMs: number; logger: Logger; read: () => Promise<unknown> }): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  res.write('retry: 3000\n\n');
  let last = '';
  let closed = false;
  let lastWrite = Date.now();
  const tick = async () => {
    const value = await opts.read();
    if (value === null || closed) return;
    const data = JSON.stringify(value);
    if (data !== last) {
      last = data;
      res.write(`event: ${opts.event}\ndata: ${data}\n\n`);
      lastWrite = Date.now();
    } else if (Date.now() - lastWrite > HEARTBEAT_MS) {
      res.write(': keep-alive\n\n');
      lastWrite = Date.now();
    }
  };
  const interval = setInterval(() => { tick().catch((err: unknown) => opts.logger.debug(`${opts.event} events tick failed`, { error: (err as Error).message })); }, opts.intervalMs);
  req.on('close', () => { closed = true; clearInterval(interval); });
  await tick();
}
