import { createHash } from 'node:crypto';
import type { AttributeValue, LogRecord } from '../otlp/model';
import { DATA_STREAMS, dataStreamField, nsToIso, nsToMicros, stableId, type StoredDoc } from './documents';
import { setLabel, truncate, withLabels, type Labels, type NumericLabels } from './labels';
import { frameworkOf, metadataOf, type MetadataCache } from './resource-metadata';

/** OTel severity number ranges → level names (logs data model "SeverityNumber"). */
export function levelFromSeverity(n: number): string {
  if (n >= 21) return 'fatal';
  if (n >= 17) return 'error';
  if (n >= 13) return 'warn';
  if (n >= 9) return 'info';
  if (n >= 5) return 'debug';
  if (n >= 1) return 'trace';
  return '';
}

/** apm-data uses body.AsString(): strings as is, everything else as JSON. */
function bodyText(body: AttributeValue): string {
  if (body === null) return '';
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/** winston's instrumentation repeats the context as attributes; trace.id/span.id already carry it. */
const CONTEXT_ATTRIBUTES = new Set(['trace_id', 'span_id', 'trace_flags']);
const EXCEPTION_ATTRIBUTES = new Set(['exception.type', 'exception.message', 'exception.stacktrace', 'exception.escaped']);

/**
 * apm-data convertLogRecord (input/otlp/logs.go): ECS log documents in logs-apm.app.<service>-*,
 * with log.level, message, trace.id, span.id; a record carrying exception.* attributes is an APM
 * error instead (logs-apm.error-*). `index` numbers the record within its request so identical
 * lines in one export stay distinct while a retried export maps to the same ids.
 */
export function translateLogs(records: LogRecord[], firstIndex = 0): StoredDoc[] {
  const metaCache: MetadataCache = new Map();
  return records.map((r, i) => {
    const index = firstIndex + i; // position in the whole export, across chunks
    const meta = metadataOf(r.resource, metaCache);
    const labels: Labels = { ...meta.labels };
    const numeric: NumericLabels = { ...meta.numericLabels };
    const message = bodyText(r.body);
    if (r.body !== null && typeof r.body === 'object' && !Array.isArray(r.body)) {
      for (const [k, v] of Object.entries(r.body)) setLabel(k, v, labels, numeric);
    }
    for (const [k, v] of Object.entries(r.attributes)) {
      if (!CONTEXT_ATTRIBUTES.has(k) && !EXCEPTION_ATTRIBUTES.has(k)) setLabel(k, v, labels, numeric);
    }
    const service: Record<string, unknown> = { ...meta.service };
    const framework = frameworkOf(r.scope);
    if (framework) service.framework = framework;
    const id = stableId(r.traceId, r.spanId, r.timeNs, r.observedNs, r.severityNumber, message, index);
    const exType = typeof r.attributes['exception.type'] === 'string' ? r.attributes['exception.type'] : '';
    const exMessage = typeof r.attributes['exception.message'] === 'string' ? r.attributes['exception.message'] : '';
    const isError = Boolean(exType || exMessage);
    const dataStream = isError ? DATA_STREAMS.errors : DATA_STREAMS.appLogs(meta.service.name);
    const doc: Record<string, unknown> = {
      '@timestamp': nsToIso(r.timeNs),
      timestamp: { us: nsToMicros(r.timeNs) },
      data_stream: dataStreamField(dataStream),
      processor: isError ? { event: 'error', name: 'error' } : { event: 'log', name: 'log' },
      agent: meta.agent,
      service,
      ...(meta.host ? { host: meta.host } : {}),
      message,
      // ECS log.level keeps the original text; derived from severity_number only when absent.
      log: { level: r.severityText || levelFromSeverity(r.severityNumber) },
      event: { severity: r.severityNumber, ...(isError ? { kind: 'event', type: 'error' } : {}) },
      ...(r.traceId ? { trace: { id: r.traceId } } : {}),
      ...(r.spanId ? { span: { id: r.spanId } } : {}),
      otel: { attributes: r.attributes, severity_text: r.severityText, scope: r.scope, ...(r.eventName ? { event_name: r.eventName } : {}) },
    };
    if (typeof r.attributes['transaction.id'] === 'string') doc.transaction = { id: r.attributes['transaction.id'] };
    if (isError) {
      const stack = typeof r.attributes['exception.stacktrace'] === 'string' ? r.attributes['exception.stacktrace'] : '';
      doc.error = {
        id,
        grouping_key: createHash('md5').update(exType || exMessage).digest('hex'),
        ...(exMessage ? { grouping_name: exMessage } : {}),
        exception: [{ ...(exType ? { type: truncate(exType) } : {}), ...(exMessage ? { message: exMessage } : {}), handled: r.attributes['exception.escaped'] !== true }],
        ...(stack ? { stack_trace: stack } : {}),
      };
    }
    const aggregation = { globalLabels: meta.labels, globalNumericLabels: meta.numericLabels };
    return { id, index: dataStream, kind: isError ? 'error' : 'log', doc: withLabels(doc, labels, numeric), aggregation } satisfies StoredDoc;
  });
}
