import { dataStreamField, NAMESPACE, stableId, type StoredDoc } from '../translate/documents';
import type { HistogramBuckets } from './hdr-histogram';
import type { ServiceGroup, ServiceKey, ServiceTransactionGroup, SpanGroup, TransactionGroup } from './metric-groups';

/**
 * Metric documents as APM Server 8.19 indexes them: elastic/apm-aggregation
 * aggregators/converter.go (CombinedMetricsToBatch, txnMetricsToAPMEvent, svcTxnMetricsToAPMEvent,
 * spanMetricsToAPMEvent, serviceMetricsToAPMEvent) encoded by elastic/apm-data model/modeljson
 * (empty fields omitted, `_doc_count` from metricset.doc_count, summaries as
 * {value_count, sum}, response_time as {count, sum.us}). `processor.event: metric` and
 * `data_stream.*` are what the Elasticsearch apm-data plugin's pipeline and
 * modelprocessor/datastream.go add; we write them directly.
 */

export const METRICSETS = ['transaction', 'service_transaction', 'service_destination', 'service_summary'] as const;
export type Metricset = (typeof METRICSETS)[number];

export const INTERVAL = '1m';

/** metrics-apm.<metricset>.1m-default, as modelprocessor/datastream.go names them. */
export const metricsDataStream = (metricset: Metricset): string => `metrics-apm.${metricset}.${INTERVAL}-${NAMESPACE}`;

type Doc = Record<string, unknown>;

/** Timestamps as modeljson writes them: milliseconds, UTC. */
const iso = (ms: number): string => new Date(ms).toISOString();

function baseDoc(metricset: Metricset, key: ServiceKey, receivedMs: number): Doc {
  const service: Doc = { name: key.name };
  if (key.environment) service.environment = key.environment;
  if (key.languageName) service.language = { name: key.languageName };
  const doc: Doc = {
    '@timestamp': iso(key.timestampMs),
    data_stream: dataStreamField(metricsDataStream(metricset)),
    processor: { event: 'metric', name: 'metric' },
    ...(key.agentName ? { agent: { name: key.agentName } } : {}),
    service,
    event: { received: iso(receivedMs) },
    metricset: { name: metricset, interval: INTERVAL },
  };
  if (Object.keys(key.globalLabels).length) doc.labels = key.globalLabels;
  if (Object.keys(key.globalNumericLabels).length) doc.numeric_labels = key.globalNumericLabels;
  return doc;
}

/** transaction.duration.{histogram, summary}; the summary sums bucket values, as converter.go does. */
function duration(h: HistogramBuckets): Doc {
  const sum = h.values.reduce((acc, v, i) => acc + v * (h.counts[i] ?? 0), 0);
  return {
    ...(h.counts.length > 0 ? { histogram: { values: h.values, counts: h.counts } } : {}),
    ...(h.total > 0 ? { summary: { value_count: h.total, sum } } : {}),
  };
}

function transactionDoc(base: Doc, g: TransactionGroup): Doc {
  const k = g.key;
  const h = g.histogram.read();
  const service = base.service as Doc;
  if (k.serviceVersion) service.version = k.serviceVersion;
  if (k.serviceNodeName) service.node = { name: k.serviceNodeName };
  if (k.serviceRuntimeName || k.serviceRuntimeVersion) service.runtime = { ...(k.serviceRuntimeName ? { name: k.serviceRuntimeName } : {}), ...(k.serviceRuntimeVersion ? { version: k.serviceRuntimeVersion } : {}) };
  if (k.serviceLanguageVersion) service.language = { ...(service.language as Doc | undefined), version: k.serviceLanguageVersion };
  if (k.hostHostname || k.hostName || k.hostOsPlatform) {
    base.host = { ...(k.hostHostname ? { hostname: k.hostHostname } : {}), ...(k.hostName ? { name: k.hostName } : {}), ...(k.hostOsPlatform ? { os: { platform: k.hostOsPlatform } } : {}) };
  }
  base.transaction = {
    ...(k.transactionName ? { name: k.transactionName } : {}),
    ...(k.transactionType ? { type: k.transactionType } : {}),
    ...(k.transactionResult ? { result: k.transactionResult } : {}),
    ...(k.traceRoot ? { root: true } : {}),
    duration: duration(h),
  };
  const event = base.event as Doc;
  if (k.eventOutcome) event.outcome = k.eventOutcome;
  // success → {n, n}; failure → {n, 0}; unknown → none (value_count 0 is omitted).
  if (h.total > 0 && (k.eventOutcome === 'success' || k.eventOutcome === 'failure')) {
    event.success_count = { value_count: h.total, sum: k.eventOutcome === 'success' ? h.total : 0 };
  }
  if (h.total > 0) base._doc_count = h.total;
  return base;
}

function serviceTransactionDoc(base: Doc, g: ServiceTransactionGroup): Doc {
  const h = g.histogram.read();
  base.transaction = { ...(g.transactionType ? { type: g.transactionType } : {}), duration: duration(h) };
  const valueCount = Math.round(g.successCount + g.failureCount);
  if (valueCount > 0) (base.event as Doc).success_count = { value_count: valueCount, sum: Math.round(g.successCount) };
  if (h.total > 0) base._doc_count = h.total;
  return base;
}

function serviceDestinationDoc(base: Doc, g: SpanGroup): Doc {
  const k = g.key;
  const count = Math.round(g.count);
  if (k.targetType || k.targetName) {
    (base.service as Doc).target = { ...(k.targetType ? { type: k.targetType } : {}), ...(k.targetName ? { name: k.targetName } : {}) };
  }
  base.span = {
    ...(k.spanName ? { name: k.spanName } : {}),
    destination: {
      service: {
        ...(k.resource ? { resource: k.resource } : {}),
        // time.Duration(round(sum ns)).Microseconds(): truncated, not rounded.
        ...(count > 0 ? { response_time: { count, sum: { us: Math.trunc(Math.round(g.sumNs) / 1000) } } } : {}),
      },
    },
  };
  if (k.outcome) (base.event as Doc).outcome = k.outcome;
  if (count > 0) base._doc_count = count;
  return base;
}

/**
 * One service's documents in converter.go order: transaction, service_transaction,
 * service_destination groups, then its service_summary. Ids are stable within one flush of one
 * aggregator instance (`flushId`), so a retried write never duplicates a document.
 */
export function serviceDocuments(service: ServiceGroup, receivedMs: number, flushId: string): StoredDoc[] {
  const out: StoredDoc[] = [];
  const push = (metricset: Metricset, doc: Doc, groupKey: unknown) => {
    const index = metricsDataStream(metricset);
    out.push({ id: stableId(flushId, index, JSON.stringify(service.key), JSON.stringify(groupKey)), index, kind: 'metric', doc });
  };
  for (const g of service.transactions.values()) push('transaction', transactionDoc(baseDoc('transaction', service.key, receivedMs), g), g.key);
  for (const g of service.serviceTransactions.values()) push('service_transaction', serviceTransactionDoc(baseDoc('service_transaction', service.key, receivedMs), g), g.transactionType);
  for (const g of service.spans.values()) push('service_destination', serviceDestinationDoc(baseDoc('service_destination', service.key, receivedMs), g), g.key);
  push('service_summary', baseDoc('service_summary', service.key, receivedMs), null);
  return out;
}
