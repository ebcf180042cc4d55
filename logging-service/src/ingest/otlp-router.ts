import { Router, type Request, type Response } from 'express';
import { HttpProblem } from '@ca/http';
import type { Logger } from '@ca/telemetry';
import { IngestBusyError, PayloadTooLargeError, UnsupportedMediaError } from '../errors';
import { decodeLogs, decodeTraces, decompress, formatOf, type Signal } from '../otlp/decode-request';
import { sendExportError, sendExportSuccess } from '../otlp/otlp-response';
import type { Store } from '../sinks/store';
import { translateLogs } from '../translate/log-to-ecs';
import { translateSpans } from '../translate/span-to-apm';
import type { StoredDoc } from '../translate/documents';
import type { IngestGate } from './ingest-gate';
import { readBody } from './read-body';

export interface IngestLimits {
  /** Largest request body, compressed or decompressed (bytes). */
  maxBodyBytes: number;
  maxInFlight: number;
  maxInFlightBytes: number;
  /** Retry-After value (seconds) on 429/503. */
  retryAfterSeconds: number;
}

interface Deps {
  store: Store;
  gate: IngestGate;
  limits: IngestLimits;
  logger: Logger;
  /** Sees every export's documents once they are stored (the APM metrics aggregator). */
  onStored?: (docs: readonly StoredDoc[]) => void;
}

/**
 * POST /v1/traces and /v1/logs (OTLP/HTTP). The response is 200 only after the store confirmed
 * every document of the export; records with invalid ids are reported as partial_success.
 */
export function otlpRouter({ store, gate, limits, logger, onStored }: Deps): Router {
  const router = Router();

  const handle = (signal: Signal) => async (req: Request, res: Response) => {
    const format = formatOf(req.headers['content-type']);
    let release: (() => void) | null = null;
    try {
      if (!format) throw new UnsupportedMediaError('Send application/x-protobuf or application/json');
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (declared > limits.maxBodyBytes) throw new PayloadTooLargeError(limits.maxBodyBytes);
      // Chunked bodies reserve the maximum: the gate must hold before a byte is read.
      release = gate.tryAcquire(Number.isFinite(declared) ? declared : limits.maxBodyBytes);
      if (!release) throw new IngestBusyError(limits.retryAfterSeconds);
      const raw = await readBody(req, limits.maxBodyBytes);
      const body = decompress(raw, req.headers['content-encoding'], limits.maxBodyBytes);
      let docs: StoredDoc[];
      let rejected: number;
      let reasons: string[];
      if (signal === 'traces') {
        const decoded = decodeTraces(body, format);
        ({ rejected, rejectReasons: reasons } = decoded);
        docs = translateSpans(decoded.records);
      } else {
        const decoded = decodeLogs(body, format);
        ({ rejected, rejectReasons: reasons } = decoded);
        docs = translateLogs(decoded.records);
      }
      const written = await store.write(docs);
      onStored?.(docs);
      sendExportSuccess(res, format, signal, rejected + written.rejected, [...reasons, ...written.reasons]);
    } catch (err) {
      if (err instanceof HttpProblem) {
        if (err.status >= 500 || err.status === 429) logger.warn('export not accepted', { signal, status: err.status, detail: err.detail });
        sendExportError(res, format, err);
        return;
      }
      logger.error('export failed', { signal, error: (err as Error).message, stack: (err as Error).stack });
      sendExportError(res, format, new HttpProblem(500, 'INTERNAL', 'Internal error', 'An unexpected error occurred; it has been logged'));
    } finally {
      release?.();
    }
  };

  router.post('/v1/traces', handle('traces'));
  router.post('/v1/logs', handle('logs'));
  return router;
}
