import { metrics as otel } from '@opentelemetry/api';
import { METER_NAME, type InstrumentOptions } from './router-metrics';

export type IngestSignal = 'traces' | 'logs';

export interface IngestMetrics {
  /** One export answered 200: how many of its records were stored, how many were not (partial success). */
  recordExport(e: { signal: IngestSignal; accepted: number; rejected: number }): void;
  /** One export refused as a whole; `reason` is the problem code (INGEST_BUSY, PAYLOAD_TOO_LARGE, …). */
  recordRefused(e: { signal: IngestSignal; reason: string }): void;
}

/**
 * logging-service's intake. Record-level rejection reasons are free text (they quote the record),
 * so they stay in the OTLP partial_success answer and the log; the metric labels are closed sets.
 */
export function createIngestMetrics(opts: Pick<InstrumentOptions, 'meter'> = {}): IngestMetrics {
  const meter = opts.meter ?? otel.getMeter(METER_NAME);
  const records = meter.createCounter('ca.ingest.records', {
    description: 'Spans (signal=traces) and log records (signal=logs) received in answered exports, by outcome (accepted | rejected)',
    unit: '{record}',
  });
  const refused = meter.createCounter('ca.ingest.exports.refused', {
    description: 'Export requests refused as a whole, by reason (the problem code of the answer)',
    unit: '{request}',
  });
  return {
    recordExport({ signal, accepted, rejected }) {
      if (accepted > 0) records.add(accepted, { signal, outcome: 'accepted' });
      if (rejected > 0) records.add(rejected, { signal, outcome: 'rejected' });
    },
    recordRefused({ signal, reason }) {
      refused.add(1, { signal, reason });
    },
  };
}
