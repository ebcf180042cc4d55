import { Router, type Request, type Response } from 'express';
import { HttpProblem } from '@ca/http';
import type { IngestMetrics } from '@ca/metrics';
import type { Logger } from '@ca/telemetry';
import { IngestBusyError, PayloadTooLargeError, UnsupportedMediaError } from '../errors';
import { contentEncodingOf, formatOf, inflate, type OtlpFormat, type Signal } from '../otlp/decode-request';
import { readExport } from '../otlp/export-reader';
import type { LogRecord, SpanRecord } from '../otlp/model';
import { sendExportError, sendExportSuccess } from '../otlp/otlp-response';
import type { Store } from '../sinks/store';
import type { StoredDoc } from '../translate/documents';
import type { IngestGate } from './ingest-gate';
import { readBody } from './read-body';
import { translateChunk } from './translate-chunk';

export interface IngestLimits {
  /** Largest request body, as sent and as decoded (bytes). */
  maxBodyBytes: number;
  /** Most spans / log records in one export; more → 413. */
  maxRecords: number;
  /** Deadline for the whole body to arrive (ms); later → 408 and the connection is closed. */
  bodyTimeoutMs: number;
  maxInFlight: number;
  maxInFlightBytes: number;
  /** Retry-After value (seconds) on 429/503. */
  retryAfterSeconds: number;
}

/** Records normalized, translated and written at a time: what bounds the objects one export builds. */
export const CHUNK_RECORDS = 500;

/**
 * An OTLP/JSON body is held three times over while it is parsed: the bytes, the decoded string and
 * the object tree (measured: 1.7× the body for typical spans). The gate charges it so, since
 * JSON.parse builds the whole tree at once.
 */
export const JSON_TREE_FACTOR = 3;

interface Deps {
  store: Store;
  gate: IngestGate;
  limits: IngestLimits;
  logger: Logger;
  /** Sees every export's documents once they are stored (the APM metrics aggregator). */
  onStored?: (docs: readonly StoredDoc[]) => void;
  /** Records accepted/rejected per answered export, refusals by problem code. */
  metrics?: IngestMetrics;
}

/**
 * POST /v1/traces and /v1/logs (OTLP/HTTP). The response is 200 only after the store confirmed
 * every document of the export; records that cannot be kept are reported as partial_success.
 * Memory: the body is charged to the ingest gate byte by byte as it arrives, then as it decodes;
 * records are built and written CHUNK_RECORDS at a time.
 */
export function otlpRouter({ store, gate, limits, logger, onStored, metrics }: Deps): Router {
  const router = Router();

  async function ingest(req: Request, signal: Signal, format: OtlpFormat, take: (bytes: number) => void, admit: () => void) {
    const encoding = contentEncodingOf(req.headers['content-encoding']);
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > limits.maxBodyBytes) throw new PayloadTooLargeError(limits.maxBodyBytes);
    const raw = await readBody(req, limits.maxBodyBytes, limits.bodyTimeoutMs, take);
    admit();
    let body = raw;
    if (encoding !== 'identity') {
      body = await inflate(raw, encoding, limits.maxBodyBytes, take);
      take(-raw.length);
    }
    if (format === 'json') take(body.length * (JSON_TREE_FACTOR - 1));
    const reader = readExport<SpanRecord | LogRecord>(body, format, signal);
    if (reader.count > limits.maxRecords) {
      throw new PayloadTooLargeError(limits.maxBodyBytes, `The export holds ${reader.count} ${signal === 'traces' ? 'spans' : 'log records'}; at most ${limits.maxRecords} are accepted per export`);
    }
    let rejected = 0;
    const reasons: string[] = [];
    const note = (r: string) => {
      if (!reasons.includes(r) && reasons.length < 8) reasons.push(r);
    };
    let stored = 0;
    for (const chunk of reader.chunks(CHUNK_RECORDS)) {
      const t = translateChunk(signal, chunk.records, stored, logger);
      stored += chunk.records.length;
      rejected += chunk.rejected + t.rejected;
      chunk.rejectReasons.forEach(note);
      t.reasons.forEach(note);
      const written = await store.write(t.docs);
      onStored?.(t.docs);
      rejected += written.rejected;
      written.reasons.forEach(note);
    }
    return { count: reader.count, rejected, reasons };
  }

  const handle = (signal: Signal) => async (req: Request, res: Response) => {
    const format = formatOf(req.headers['content-type']);
    const hold = gate.open();
    const busy = (detail: string) => new IngestBusyError(limits.retryAfterSeconds, detail);
    try {
      if (!format) throw new UnsupportedMediaError('Send application/x-protobuf or application/json');
      const { count, rejected, reasons } = await ingest(
        req, signal, format,
        (n) => { if (!hold.add(n)) throw busy('Too many bytes of export requests are in memory'); },
        () => { if (!hold.admit()) throw busy('Too many export requests are in flight'); },
      );
      sendExportSuccess(res, format, signal, rejected, reasons);
      metrics?.recordExport({ signal, accepted: Math.max(0, count - rejected), rejected });
    } catch (err) {
      const problem = err instanceof HttpProblem
        ? err
        : new HttpProblem(500, 'INTERNAL', 'Internal error', 'An unexpected error occurred; it has been logged');
      metrics?.recordRefused({ signal, reason: problem.code });
      if (!(err instanceof HttpProblem)) logger.error('export failed', { signal, error: (err as Error).message, stack: (err as Error).stack });
      else if (err.status >= 500 || err.status === 429) logger.warn('export not accepted', { signal, status: err.status, detail: err.detail });
      if (!req.complete) {
        // The body was not read to its end (too large, too slow, gate full): answer, then hang up
        // rather than read the rest.
        res.setHeader('connection', 'close');
        res.once('finish', () => req.destroy());
      }
      sendExportError(res, format, problem);
    } finally {
      hold.release();
    }
  };

  router.post('/v1/traces', handle('traces'));
  router.post('/v1/logs', handle('logs'));
  return router;
}
