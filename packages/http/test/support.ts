import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { TestContext } from 'node:test';
import type { EdgeLogger } from '../src/error-boundary';

export interface LogLine { level: string; message: string; meta: Record<string, unknown> }

/** A logger that keeps what it is given, so a test can assert the level and fields of each line. */
export function recordingLogger(): EdgeLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, meta: Record<string, unknown> = {}) => lines.push({ level, message, meta });
  return { lines, error: at('error'), info: at('info'), debug: at('debug') };
}

export async function listen(t: TestContext, server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return (server.address() as AddressInfo).port;
}

export interface RawResponse { status: number; headers: Record<string, string>; body: string; closedAfterMs: number }

/**
 * Writes `chunks` on a raw TCP connection (each after `gapMs`) and reads until the server closes it.
 * Nothing here parses leniently the way fetch would: the bytes the server wrote are what is checked.
 */
export async function rawRequest(port: number, chunks: Array<string | Buffer>, opts: { gapMs?: number; endAfterWrite?: boolean } = {}): Promise<RawResponse> {
  const started = Date.now();
  const socket = connect(port, '127.0.0.1');
  const received: Buffer[] = [];
  socket.on('data', (d: Buffer) => received.push(d));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  for (const c of chunks) {
    if (socket.destroyed) break;
    socket.write(c);
    if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
  }
  if (opts.endAfterWrite) socket.end();
  await closed;
  return parseRaw(Buffer.concat(received).toString('utf8'), Date.now() - started);
}

export function parseRaw(text: string, closedAfterMs: number): RawResponse {
  const split = text.indexOf('\r\n\r\n');
  const head = split >= 0 ? text.slice(0, split) : text;
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body: split >= 0 ? text.slice(split + 4) : '', closedAfterMs };
}
