import type { AggregationFacts, StoredDoc } from '../translate/documents';
import { DurationHistogram } from './hdr-histogram';

/**
 * The groups elastic/apm-aggregation keeps per service and interval (aggregators/converter.go:
 * EventToCombinedMetrics, setTransactionKey, setServiceTransactionKey, setSpanKey). Every event
 * counts for its service's summary; transactions add to a transaction group and a service
 * transaction group; spans with a service target or destination resource add to a span
 * (service_destination) group.
 */

export const INTERVAL_MS = 60_000;

/** ServiceAggregationKey: the interval the event's timestamp falls in, and the service. */
export interface ServiceKey {
  timestampMs: number;
  name: string;
  environment: string;
  languageName: string;
  agentName: string;
  globalLabels: AggregationFacts['globalLabels'];
  globalNumericLabels: AggregationFacts['globalNumericLabels'];
}

/** TransactionAggregationKey (the fields our OTLP documents can carry). */
export interface TransactionKey {
  traceRoot: boolean;
  serviceVersion: string;
  serviceNodeName: string;
  serviceRuntimeName: string;
  serviceRuntimeVersion: string;
  serviceLanguageVersion: string;
  hostHostname: string;
  hostName: string;
  hostOsPlatform: string;
  eventOutcome: string;
  transactionName: string;
  transactionType: string;
  transactionResult: string;
}

/** SpanAggregationKey. */
export interface SpanKey {
  spanName: string;
  outcome: string;
  targetType: string;
  targetName: string;
  resource: string;
}

export interface TransactionGroup { key: TransactionKey; histogram: DurationHistogram }
export interface ServiceTransactionGroup { transactionType: string; histogram: DurationHistogram; successCount: number; failureCount: number }
export interface SpanGroup { key: SpanKey; count: number; sumNs: number }

export interface ServiceGroup {
  key: ServiceKey;
  transactions: Map<string, TransactionGroup>;
  serviceTransactions: Map<string, ServiceTransactionGroup>;
  spans: Map<string, SpanGroup>;
}

type Doc = Record<string, unknown>;

function get(doc: Doc, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Doc)[part];
  }
  return cur;
}

const str = (doc: Doc, path: string): string => {
  const v = get(doc, path);
  return typeof v === 'string' ? v : '';
};

/** Object keys sorted, so equal keys serialize equally (labels are sorted in apm-aggregation too). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Doc).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v);
}

function eventTimeMs(doc: Doc): number {
  const us = get(doc, 'timestamp.us');
  return typeof us === 'number' ? Math.floor(us / 1000) : Date.parse(str(doc, '@timestamp'));
}

function serviceKeyOf(d: StoredDoc): ServiceKey {
  const t = eventTimeMs(d.doc);
  return {
    timestampMs: t - (((t % INTERVAL_MS) + INTERVAL_MS) % INTERVAL_MS),
    name: str(d.doc, 'service.name'),
    environment: str(d.doc, 'service.environment'),
    languageName: str(d.doc, 'service.language.name'),
    agentName: str(d.doc, 'agent.name'),
    globalLabels: d.aggregation?.globalLabels ?? {},
    globalNumericLabels: d.aggregation?.globalNumericLabels ?? {},
  };
}

function representativeCount(doc: Doc, path: string): number {
  const v = get(doc, path);
  return typeof v === 'number' ? v : 1;
}

function durationNs(d: StoredDoc, usPath: string): number {
  if (d.aggregation?.durationNs !== undefined) return d.aggregation.durationNs;
  const us = get(d.doc, usPath);
  return typeof us === 'number' ? us * 1000 : 0;
}

/** Groups of one processing interval, keyed by service then by group key. */
export class MetricGroups {
  readonly services = new Map<string, ServiceGroup>();

  get size(): number {
    return this.services.size;
  }

  /** False when the event's service is new and `maxServices` are already tracked. */
  add(d: StoredDoc, maxServices = Infinity): boolean {
    if (d.kind === 'metric') return true;
    const key = serviceKeyOf(d);
    const id = canonical(key);
    let service = this.services.get(id);
    if (!service) {
      if (this.services.size >= maxServices) return false;
      service = { key, transactions: new Map(), serviceTransactions: new Map(), spans: new Map() };
      this.services.set(id, service);
    }
    if (d.kind === 'transaction') this.addTransaction(service, d);
    else if (d.kind === 'span') this.addSpan(service, d);
    // errors and logs only make their service known (service_summary)
    return true;
  }

  private addTransaction(service: ServiceGroup, d: StoredDoc): void {
    const count = representativeCount(d.doc, 'transaction.representative_count');
    if (count <= 0) return;
    const us = Math.trunc(durationNs(d, 'transaction.duration.us') / 1000); // time.Duration.Microseconds()
    const key: TransactionKey = {
      traceRoot: get(d.doc, 'parent.id') === undefined,
      serviceVersion: str(d.doc, 'service.version'),
      serviceNodeName: str(d.doc, 'service.node.name'),
      serviceRuntimeName: str(d.doc, 'service.runtime.name'),
      serviceRuntimeVersion: str(d.doc, 'service.runtime.version'),
      serviceLanguageVersion: str(d.doc, 'service.language.version'),
      hostHostname: str(d.doc, 'host.hostname'),
      hostName: str(d.doc, 'host.name'),
      hostOsPlatform: str(d.doc, 'host.os.platform'),
      eventOutcome: str(d.doc, 'event.outcome'),
      transactionName: str(d.doc, 'transaction.name'),
      transactionType: str(d.doc, 'transaction.type'),
      transactionResult: str(d.doc, 'transaction.result'),
    };
    const txnId = canonical(key);
    let txn = service.transactions.get(txnId);
    if (!txn) service.transactions.set(txnId, (txn = { key, histogram: new DurationHistogram() }));
    txn.histogram.record(us, count);

    const type = key.transactionType;
    let svcTxn = service.serviceTransactions.get(type);
    if (!svcTxn) service.serviceTransactions.set(type, (svcTxn = { transactionType: type, histogram: new DurationHistogram(), successCount: 0, failureCount: 0 }));
    svcTxn.histogram.record(us, count);
    if (key.eventOutcome === 'success') svcTxn.successCount += count;
    else if (key.eventOutcome === 'failure') svcTxn.failureCount += count;
  }

  private addSpan(service: ServiceGroup, d: StoredDoc): void {
    const count = representativeCount(d.doc, 'span.representative_count');
    const target = get(d.doc, 'service.target') as { type?: string; name?: string } | undefined;
    const resource = str(d.doc, 'span.destination.service.resource');
    if (count <= 0 || (!target && !resource)) return;
    const key: SpanKey = {
      spanName: str(d.doc, 'span.name'),
      outcome: str(d.doc, 'event.outcome'),
      targetType: target?.type ?? '',
      targetName: target?.name ?? '',
      resource,
    };
    const spanId = canonical(key);
    let span = service.spans.get(spanId);
    if (!span) service.spans.set(spanId, (span = { key, count: 0, sumNs: 0 }));
    span.count += count;
    span.sumNs += durationNs(d, 'span.duration.us') * count;
  }
}
