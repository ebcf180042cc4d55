import { gunzipSync, inflateSync } from 'node:zlib';
import { MalformedOtlpError, PayloadTooLargeError, UnsupportedMediaError } from '../errors';
import type { Decoded, LogRecord, SpanRecord } from './model';
import { normalizeLogs, normalizeTraces } from './normalize';
import { OTLP_TYPES, TO_OBJECT_OPTIONS } from './otlp-proto';

export type OtlpFormat = 'protobuf' | 'json';
export type Signal = 'traces' | 'logs';

/** The encoding the response must use: OTLP/HTTP answers in the encoding of the request. */
export function formatOf(contentType: string | undefined): OtlpFormat | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return null;
}

/** Undoes Content-Encoding; the output limit stops a small gzip bomb from becoming a huge buffer. */
export function decompress(body: Buffer, contentEncoding: string | undefined, maxBytes: number): Buffer {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return body;
  if (encoding !== 'gzip' && encoding !== 'deflate') throw new UnsupportedMediaError(`Content-Encoding ${encoding} is not supported (use gzip or none)`);
  try {
    return encoding === 'gzip' ? gunzipSync(body, { maxOutputLength: maxBytes }) : inflateSync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new PayloadTooLargeError(maxBytes);
    throw new MalformedOtlpError(`The body is not valid ${encoding} data`);
  }
}

function toPlain(body: Buffer, format: OtlpFormat, signal: Signal): unknown {
  if (format === 'json') {
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      throw new MalformedOtlpError('The body is not valid JSON');
    }
  }
  const type = signal === 'traces' ? OTLP_TYPES.traceRequest : OTLP_TYPES.logsRequest;
  try {
    return type.toObject(type.decode(body), TO_OBJECT_OPTIONS);
  } catch {
    throw new MalformedOtlpError(`The body is not a valid protobuf ${type.name}`);
  }
}

export function decodeTraces(body: Buffer, format: OtlpFormat): Decoded<SpanRecord> {
  return normalizeTraces(toPlain(body, format, 'traces'));
}

export function decodeLogs(body: Buffer, format: OtlpFormat): Decoded<LogRecord> {
  return normalizeLogs(toPlain(body, format, 'logs'));
}
