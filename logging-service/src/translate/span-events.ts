import { createHash } from 'node:crypto';
import type { SpanRecord } from '../otlp/model';
import { DATA_STREAMS, dataStreamField, nsToIso, nsToMicros, stableId, type StoredDoc } from './documents';
import { setLabel, truncate, withLabels, type Labels, type NumericLabels } from './labels';
import type { Metadata } from './resource-metadata';

interface Parent {
  isTransaction: boolean;
  transactionType?: string;
  owner?: string;
}

function withoutTarget(service: Record<string, unknown>): Record<string, unknown> {
  const { target: _target, origin: _origin, ...rest } = service;
  return rest;
}

/**
 * convertSpanEvent starts from a clone of the span's event and then resets transaction, span,
 * parent, event, labels and destination: these are the fields of ours that survive the clone.
 */
const CLONED_FROM_SPAN = ['agent', 'host', 'process', 'user_agent', 'source', 'client', 'http', 'url'] as const;

/**
 * apm-data convertSpanEvent: an "exception" event (with exception.type or .message) becomes an APM
 * error in logs-apm.error-*; any other event becomes a log event (event.kind=event) in the
 * service's logs-apm.app.* stream. Both keep the trace/transaction/span context of their span.
 */
export function spanEventDocs(span: SpanRecord, parentDoc: Record<string, unknown>, parent: Parent, meta: Metadata): StoredDoc[] {
  return span.events.map((event, i) => {
    const labels: Labels = { ...meta.labels };
    const numeric: NumericLabels = { ...meta.numericLabels };
    const id = stableId(span.traceId, span.spanId, event.timeNs, i, event.name);
    const base: Record<string, unknown> = {
      '@timestamp': nsToIso(event.timeNs),
      timestamp: { us: nsToMicros(event.timeNs) },
      ...Object.fromEntries(CLONED_FROM_SPAN.flatMap((k) => (parentDoc[k] === undefined ? [] : [[k, parentDoc[k]]]))),
      // convertSpanEvent drops service.target/origin: an event describes no outgoing call.
      service: withoutTarget(parentDoc.service as Record<string, unknown>),
      trace: { id: span.traceId },
    };
    const a = event.attributes;
    const type = typeof a['exception.type'] === 'string' ? a['exception.type'] : '';
    const message = typeof a['exception.message'] === 'string' ? a['exception.message'] : '';
    if (event.name === 'exception' && (type || message)) {
      for (const [k, v] of Object.entries(a)) {
        if (!['exception.type', 'exception.message', 'exception.stacktrace', 'exception.escaped'].includes(k)) setLabel(k, v, labels, numeric);
      }
      const stack = typeof a['exception.stacktrace'] === 'string' ? a['exception.stacktrace'] : '';
      const doc: Record<string, unknown> = {
        ...base,
        data_stream: dataStreamField(DATA_STREAMS.errors),
        processor: { event: 'error', name: 'error' },
        error: {
          id,
          // apm-data modelprocessor/groupingkey.go with APM Server's md5: the exception type; the
          // message only when there is no type (Node.js stack traces are not parsed into frames).
          grouping_key: createHash('md5').update(type || message).digest('hex'),
          ...(message ? { grouping_name: message } : {}),
          // convertOpenTelemetryExceptionSpanEvent (input/otlp/exceptions.go): no message → "[EMPTY]".
          exception: [{ ...(type ? { type: truncate(type) } : {}), message: message || '[EMPTY]', handled: a['exception.escaped'] !== true }],
          ...(stack ? { stack_trace: stack } : {}),
        },
        // setErrorContext: parent.id is the span the exception happened in.
        parent: { id: span.spanId },
        ...(parent.isTransaction
          ? { transaction: { id: span.spanId, sampled: true, type: parent.transactionType }, span: { id: span.spanId } }
          : parent.owner ? { transaction: { id: parent.owner } } : {}),
      };
      return { id, index: DATA_STREAMS.errors, kind: 'error', doc: withLabels(doc, labels, numeric), aggregation: { globalLabels: meta.labels, globalNumericLabels: meta.numericLabels } } satisfies StoredDoc;
    }
    for (const [k, v] of Object.entries(a)) setLabel(k, v, labels, numeric);
    const service = String((parentDoc.service as { name: string }).name);
    const index = DATA_STREAMS.appLogs(service);
    const doc: Record<string, unknown> = {
      ...base,
      data_stream: dataStreamField(index),
      processor: { event: 'log', name: 'log' },
      event: { kind: 'event' },
      message: event.name,
      span: { id: span.spanId },
      ...(parent.isTransaction ? { transaction: { id: span.spanId } } : parent.owner ? { transaction: { id: parent.owner } } : {}),
      otel: { attributes: a },
    };
    return { id, index, kind: 'log', doc: withLabels(doc, labels, numeric), aggregation: { globalLabels: meta.labels, globalNumericLabels: meta.numericLabels } } satisfies StoredDoc;
  });
}
