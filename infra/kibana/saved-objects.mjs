// Generates infra/kibana/saved-objects.ndjson (the file Kibana's saved_objects/_import API takes).
// The ndjson is committed; edit this file and run `node infra/kibana/saved-objects.mjs` to change it,
// because Lens state written by hand in one-line JSON is unreviewable.
//
// Fields are those of the Elastic APM documents logging-service writes: our span attributes `ca.*`
// become `labels.ca_*` (strings) or `numeric_labels.ca_*` (numbers), dots replaced by underscores.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const TRACES = 'ca-traces-apm';
const LOGS = 'ca-logs';
const LAYER = 'layer1';
const ATTEMPT = 'span.name : "delivery.attempt"';

const core = { coreMigrationVersion: '8.8.0', managed: false };

function dataView(id, title, name) {
  return {
    id, type: 'index-pattern', typeMigrationVersion: '8.0.0', ...core,
    attributes: { title, name, timeFieldName: '@timestamp', fieldAttrs: '{}', fieldFormatMap: '{}', runtimeFieldMap: '{}', sourceFilters: '[]', typeMeta: '{}', allowNoIndex: true },
    references: [],
  };
}

const count = (label, filter) => ({
  label, dataType: 'number', isBucketed: false, operationType: 'count', scale: 'ratio', sourceField: '___records___', params: {},
  ...(filter ? { filter: { language: 'kuery', query: filter } } : {}),
});
const percentile = (field, p) => ({
  label: `p${p}`, dataType: 'number', isBucketed: false, operationType: 'percentile', scale: 'ratio', sourceField: field, params: { percentile: p },
});
const terms = (field, label, orderBy, size = 10) => ({
  label, dataType: 'string', isBucketed: true, operationType: 'terms', scale: 'ordinal', sourceField: field,
  params: { size, orderBy: { type: 'column', columnId: orderBy }, orderDirection: 'desc', otherBucket: true, missingBucket: false },
});
const dateHistogram = () => ({
  label: '@timestamp', dataType: 'date', isBucketed: true, operationType: 'date_histogram', scale: 'interval', sourceField: '@timestamp',
  params: { interval: 'auto', includeEmptyRows: true },
});

/** One Lens visualization on the traces data view with a single layer. */
function lens(id, title, description, query, columns, visualization, visualizationType) {
  return {
    id, type: 'lens', typeMigrationVersion: '8.9.0', ...core,
    attributes: {
      title, description, visualizationType,
      state: {
        datasourceStates: { formBased: { layers: { [LAYER]: { columnOrder: Object.keys(columns), columns, incompleteColumns: {} } } } },
        filters: [], internalReferences: [], adHocDataViews: {},
        query: { language: 'kuery', query },
        visualization,
      },
    },
    references: [{ id: TRACES, name: `indexpattern-datasource-layer-${LAYER}`, type: 'index-pattern' }],
  };
}

function xy(seriesType, xAccessor, accessors, splitAccessor) {
  return {
    preferredSeriesType: seriesType, legend: { isVisible: true, position: 'right' }, valueLabels: 'hide', fittingFunction: 'None',
    layers: [{ layerId: LAYER, layerType: 'data', seriesType, xAccessor, accessors, ...(splitAccessor ? { splitAccessor } : {}) }],
  };
}

const objects = [
  dataView(TRACES, 'traces-apm*', 'Traces (APM, communication aggregator)'),
  dataView(LOGS, 'logs-*', 'Logs (ECS, communication aggregator)'),

  {
    id: 'ca-message-journey', type: 'search', typeMigrationVersion: '8.0.0', ...core,
    attributes: {
      title: 'Message journey',
      description: 'Every transaction and span of one message, oldest first. Query: trace.id : "<traceId from the 202 response>".',
      columns: ['trace.id', 'service.name', 'processor.event', 'transaction.name', 'span.name', 'labels.ca_channel', 'numeric_labels.ca_attempt_number', 'labels.ca_attempt_outcome', 'event.outcome'],
      sort: [['@timestamp', 'asc']],
      grid: {}, hideChart: true, isTextBasedQuery: false,
      kibanaSavedObjectMeta: {
        searchSourceJSON: JSON.stringify({
          query: { language: 'kuery', query: 'trace.id : *' },
          filter: [],
          indexRefName: 'kibanaSavedObjectMeta.searchSourceJSON.index',
        }),
      },
    },
    references: [{ id: TRACES, name: 'kibanaSavedObjectMeta.searchSourceJSON.index', type: 'index-pattern' }],
  },

  lens('ca-attempts-by-channel-outcome', 'Delivery attempts by channel and outcome',
    'delivery.attempt spans per channel, split by outcome (sent, transient_failure, permanent_failure).',
    ATTEMPT,
    { channel: terms('labels.ca_channel', 'Channel', 'attempts', 4), outcome: terms('labels.ca_attempt_outcome', 'Outcome', 'attempts', 5), attempts: count('Attempts') },
    xy('bar_stacked', 'channel', ['attempts'], 'outcome'), 'lnsXY'),

  lens('ca-sent-by-channel', 'Messages sent by channel',
    'Attempts whose outcome is sent: one per delivered message (the ledger allows one effect per message).',
    `${ATTEMPT} and labels.ca_attempt_outcome : "sent"`,
    { channel: terms('labels.ca_channel', 'Channel', 'sent', 4), sent: count('Sent') },
    { shape: 'donut', layers: [{ layerId: LAYER, layerType: 'data', primaryGroups: ['channel'], metrics: ['sent'], numberDisplay: 'value', categoryDisplay: 'default', legendDisplay: 'show', nestedLegend: false }] },
    'lnsPie'),

  lens('ca-failures-retries-over-time', 'Failures and retries over time',
    'Transient and permanent failures, retries scheduled and dead letters per interval.',
    '',
    {
      time: dateHistogram(),
      transient: count('Transient failures', `${ATTEMPT} and labels.ca_attempt_outcome : "transient_failure"`),
      permanent: count('Permanent failures', `${ATTEMPT} and labels.ca_attempt_outcome : "permanent_failure"`),
      retries: count('Retries scheduled', 'span.name : "delivery.schedule_retry"'),
      dead: count('Dead-lettered', 'span.name : "delivery.dead_letter"'),
    },
    xy('line', 'time', ['transient', 'permanent', 'retries', 'dead']), 'lnsXY'),

  lens('ca-attempt-latency', 'Delivery attempt latency p50 / p95 / p99 (µs)',
    'span.duration.us of delivery.attempt spans: claim, provider call and outcome commit.',
    ATTEMPT,
    { time: dateHistogram(), p50: percentile('span.duration.us', 50), p95: percentile('span.duration.us', 95), p99: percentile('span.duration.us', 99) },
    xy('line', 'time', ['p50', 'p95', 'p99']), 'lnsXY'),

  lens('ca-transaction-latency', 'Transaction latency by service p50 / p95 / p99 (µs)',
    'transaction.duration.us: HTTP requests (router-service) and Kafka record processing (delivery-service).',
    'processor.event : "transaction"',
    { service: terms('service.name', 'Service', 'p95', 5), p50: percentile('transaction.duration.us', 50), p95: percentile('transaction.duration.us', 95), p99: percentile('transaction.duration.us', 99) },
    { layerId: LAYER, layerType: 'data', columns: [{ columnId: 'service' }, { columnId: 'p50' }, { columnId: 'p95' }, { columnId: 'p99' }] },
    'lnsDatatable'),
];

const panels = [
  ['ca-attempts-by-channel-outcome', 0, 0, 28, 14],
  ['ca-sent-by-channel', 28, 0, 20, 14],
  ['ca-failures-retries-over-time', 0, 14, 48, 14],
  ['ca-attempt-latency', 0, 28, 28, 14],
  ['ca-transaction-latency', 28, 28, 20, 14],
  ['ca-message-journey', 0, 42, 48, 16, 'search'],
];

objects.push({
  id: 'ca-overview', type: 'dashboard', typeMigrationVersion: '8.9.0', ...core,
  attributes: {
    title: 'Communication aggregator: delivery overview',
    description: 'Messages by channel and outcome, failures and retries over time, delivery latency percentiles. Data: traces-apm* written by logging-service.',
    timeRestore: true, timeFrom: 'now-1h', timeTo: 'now', refreshInterval: { pause: false, value: 10_000 },
    optionsJSON: JSON.stringify({ useMargins: true, syncColors: false, syncCursor: true, syncTooltips: false, hidePanelTitles: false }),
    kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify({ query: { query: '', language: 'kuery' }, filter: [] }) },
    panelsJSON: JSON.stringify(panels.map(([, x, y, w, h, type], i) => ({
      type: type ?? 'lens', panelIndex: `p${i + 1}`, gridData: { x, y, w, h, i: `p${i + 1}` },
      embeddableConfig: { enhancements: {} }, panelRefName: `panel_p${i + 1}`,
    }))),
  },
  references: panels.map(([id, , , , , type], i) => ({ id, name: `p${i + 1}:panel_p${i + 1}`, type: type ?? 'lens' })),
});

const out = fileURLToPath(new URL('./saved-objects.ndjson', import.meta.url));
writeFileSync(out, objects.map((o) => JSON.stringify(o)).join('\n') + '\n');
console.log(`wrote ${objects.length} saved objects to ${out}`);
