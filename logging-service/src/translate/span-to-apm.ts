import type { SpanRecord } from '../otlp/model';
import { DATA_STREAMS, dataStreamField, nsToIso, nsToMicros, stableId, type StoredDoc } from './documents';
import { withLabels, type Labels, type NumericLabels } from './labels';
import { frameworkOf, metadataOf, type MetadataCache } from './resource-metadata';
import { spanEventDocs } from './span-events';
import { spanFields } from './span-fields';
import { transactionFields } from './transaction-fields';

/** apm-data convertSpan: entry spans (no parent, SERVER, CONSUMER) are transactions. */
export function isTransaction(span: SpanRecord): boolean {
  return span.parentSpanId === null || span.kind === 'SERVER' || span.kind === 'CONSUMER';
}

/**
 * APM Server does not set transaction.id on OTLP spans; Kibana links a span to its transaction
 * through it, so we fill it when the owning entry span of the same service is in the same export.
 */
function owningTransactions(spans: SpanRecord[]): Map<string, string> {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const owner = new Map<string, string>();
  for (const s of spans) {
    if (isTransaction(s)) continue;
    let cur: SpanRecord | undefined = s;
    for (let depth = 0; cur && depth < 128; depth += 1) {
      const parent: SpanRecord | undefined = cur.parentSpanId ? byId.get(cur.parentSpanId) : undefined;
      if (!parent || parent.resource['service.name'] !== s.resource['service.name']) break;
      if (isTransaction(parent)) { owner.set(s.spanId, parent.spanId); break; }
      cur = parent;
    }
  }
  return owner;
}

/** Turns decoded spans into APM transaction/span documents plus error and log documents for their events. */
export function translateSpans(spans: SpanRecord[]): StoredDoc[] {
  const owners = owningTransactions(spans);
  const metaCache: MetadataCache = new Map();
  const out: StoredDoc[] = [];
  for (const span of spans) {
    const meta = metadataOf(span.resource, metaCache);
    const labels: Labels = { ...meta.labels };
    const numeric: NumericLabels = { ...meta.numericLabels };
    const durationUs = nsToMicros(span.endNs - span.startNs);
    const service: Record<string, unknown> = { ...meta.service };
    // translateScopeMetadata runs for every span (apm-data v1.19 input/otlp/metadata.go): the
    // instrumentation scope is the service's framework on spans too, not only on transactions.
    const framework = frameworkOf(span.scope);
    if (framework) service.framework = framework;
    const doc: Record<string, unknown> = {
      '@timestamp': nsToIso(span.startNs),
      timestamp: { us: nsToMicros(span.startNs) },
      data_stream: dataStreamField(DATA_STREAMS.traces),
      agent: meta.agent,
      service,
      trace: { id: span.traceId },
      ...(meta.host ? { host: meta.host } : {}),
      ...(meta.process ? { process: meta.process } : {}),
      ...(span.parentSpanId ? { parent: { id: span.parentSpanId } } : {}),
    };
    const txn = isTransaction(span);
    let outcome: string;
    let txnType: string | undefined;
    if (txn) {
      const t = transactionFields(span, labels, numeric);
      outcome = t.outcome;
      txnType = t.type;
      Object.assign(doc, t.fields, {
        processor: { event: 'transaction', name: 'transaction' },
        transaction: {
          id: span.spanId, name: span.name, type: t.type, ...(t.result ? { result: t.result } : {}),
          sampled: true, duration: { us: durationUs }, representative_count: 1,
          ...(t.queue ? { message: { queue: { name: t.queue } } } : {}),
        },
        span: { id: span.spanId },
      });
    } else {
      const s = spanFields(span, labels, numeric);
      outcome = s.outcome;
      if (s.target) service.target = s.target;
      const owner = owners.get(span.spanId);
      Object.assign(doc, s.fields, {
        processor: { event: 'span', name: 'transaction' },
        span: { id: span.spanId, name: span.name, ...s.span, duration: { us: durationUs }, representative_count: 1 },
        ...(owner ? { transaction: { id: owner } } : {}),
      });
    }
    doc.event = { outcome, ...(outcome === 'success' ? { success_count: 1 } : outcome === 'failure' ? { success_count: 0 } : {}) };
    if (span.links.length) (doc.span as Record<string, unknown>).links = span.links.map((l) => ({ trace: { id: l.traceId }, span: { id: l.spanId } }));
    // The OTel view of the span (kind, status, raw attributes) for the trace API; not indexed.
    doc.otel = { kind: span.kind, status: span.status, attributes: span.attributes, scope: span.scope };
    withLabels(doc, labels, numeric);
    const aggregation = { globalLabels: meta.labels, globalNumericLabels: meta.numericLabels, durationNs: Number(span.endNs - span.startNs) };
    out.push({ id: stableId(span.traceId, span.spanId), index: DATA_STREAMS.traces, kind: txn ? 'transaction' : 'span', doc, aggregation });
    out.push(...spanEventDocs(span, doc, { isTransaction: txn, transactionType: txnType, owner: owners.get(span.spanId) }, meta));
  }
  return out;
}
