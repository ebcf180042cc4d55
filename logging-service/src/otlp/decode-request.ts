import { createGunzip, createInflate, type Gunzip, type Inflate } from 'node:zlib';
import { MalformedOtlpError, UnsupportedMediaError } from '../errors';
import { boundedChunks } from '../ingest/bounded-chunks';
import { decodeAll, type OtlpFormat, type Signal } from './export-reader';
import type { Decoded, LogRecord, SpanRecord } from './model';

export type { OtlpFormat, Signal } from './export-reader';

/** The encoding the response must use: OTLP/HTTP answers in the encoding of the request. */
export function formatOf(contentType: string | undefined): OtlpFormat | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return null;
}

export function contentEncodingOf(header: string | undefined): 'identity' | 'gzip' | 'deflate' {
  const encoding = (header ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return 'identity';
  if (encoding === 'gzip' || encoding === 'deflate') return encoding;
  throw new UnsupportedMediaError(`Content-Encoding ${encoding.slice(0, 40)} is not supported (use gzip or none)`);
}

/**
 * Undoes Content-Encoding as a stream, off the event loop, and stops as soon as the output passes
 * `maxBytes` (413): what counts is what the body decodes to, not what was sent. `onOutput` sees
 * every decoded chunk before it is kept and may throw (the ingest gate refusing more bytes).
 */
export function inflate(body: Buffer, encoding: 'gzip' | 'deflate', maxBytes: number, onOutput: (bytes: number) => void = () => undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const z: Gunzip | Inflate = encoding === 'gzip' ? createGunzip() : createInflate();
    const output = boundedChunks(maxBytes, onOutput);
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      z.destroy();
      reject(err);
    };
    z.on('data', (chunk: Buffer) => {
      if (failed) return;
      const stop = output.add(chunk);
      if (stop) fail(stop);
    });
    z.on('error', () => fail(new MalformedOtlpError(`The body is not valid ${encoding} data`)));
    z.on('end', () => {
      if (!failed) resolve(output.concat());
    });
    z.end(body);
  });
}

export function decodeTraces(body: Buffer, format: OtlpFormat): Decoded<SpanRecord> {
  return decodeAll<SpanRecord>(body, format, 'traces');
}

export function decodeLogs(body: Buffer, format: OtlpFormat): Decoded<LogRecord> {
  return decodeAll<LogRecord>(body, format, 'logs');
}

