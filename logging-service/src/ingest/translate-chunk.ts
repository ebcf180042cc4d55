import type { Logger } from '@ca/telemetry';
import type { Signal } from '../otlp/export-reader';
import type { LogRecord, SpanRecord } from '../otlp/model';
import type { StoredDoc } from '../translate/documents';
import { translateLogs } from '../translate/log-to-ecs';
import { translateSpans } from '../translate/span-to-apm';

export interface TranslatedChunk {
  docs: StoredDoc[];
  rejected: number;
  reasons: string[];
}

/**
 * Translates one chunk. Normalization already refused what translation cannot handle; should a
 * record still throw (a bug of ours), it alone is rejected and logged, instead of the export
 * failing with a 500 that the sender would retry forever.
 */
export function translateChunk(signal: Signal, records: Array<SpanRecord | LogRecord>, firstIndex: number, logger: Logger): TranslatedChunk {
  const run = (rs: Array<SpanRecord | LogRecord>, first: number) =>
    signal === 'traces' ? translateSpans(rs as SpanRecord[]) : translateLogs(rs as LogRecord[], first);
  try {
    return { docs: run(records, firstIndex), rejected: 0, reasons: [] };
  } catch {
    const out: TranslatedChunk = { docs: [], rejected: 0, reasons: [] };
    records.forEach((r, i) => {
      try {
        out.docs.push(...run([r], firstIndex + i));
      } catch (err) {
        logger.error('record could not be translated', { signal, error: (err as Error).message, stack: (err as Error).stack });
        out.rejected += 1;
        out.reasons = ['record could not be translated'];
      }
    });
    return out;
  }
}
