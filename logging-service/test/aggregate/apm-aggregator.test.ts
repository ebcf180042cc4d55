import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '@ca/testing';
import { createApmAggregator } from '../../src/aggregate/apm-aggregator';
import { decodeTraces } from '../../src/otlp/decode-request';
import type { StoredDoc } from '../../src/translate/documents';
import { translateSpans } from '../../src/translate/span-to-apm';
import { silentLogger } from '../helpers';
import { journeyRequest } from './journey-fixture';

/**
 * The journey export through translation and the aggregator, against the documents
 * elastic/apm-aggregation (aggregators/converter.go) would have APM Server index, written out by
 * hand from that code: HDR bucket values (2 significant figures, highest equivalent value),
 * summaries that sum bucket values, success_count per outcome, response_time sums in ns truncated
 * to µs, service_summary for every service and interval.
 */

const translated = () => translateSpans(decodeTraces(Buffer.from(JSON.stringify(journeyRequest())), 'json').records);

function setup(write?: (docs: readonly StoredDoc[]) => Promise<unknown>) {
  const clock = manualClock(new Date('2023-11-14T22:13:30.000Z'));
  const written: StoredDoc[] = [];
  const aggregator = createApmAggregator({
    clock, logger: silentLogger(), instanceId: 'test',
    write: write ?? (async (docs) => { written.push(...docs); }),
  });
  return { clock, written, aggregator };
}

const RECEIVED = '2023-11-14T22:14:00.000Z';
const labels = { ca_region: 'eu' };
const agent = { name: 'opentelemetry/nodejs' };
const service = (name: string) => ({ name, environment: 'test', language: { name: 'nodejs' } });
const base = (metricset: string, name: string, minute = '2023-11-14T22:13:00.000Z') => ({
  '@timestamp': minute,
  data_stream: { type: 'metrics', dataset: `apm.${metricset}.1m`, namespace: 'default' },
  processor: { event: 'metric', name: 'metric' },
  agent,
  service: service(name),
  event: { received: RECEIVED },
  metricset: { name: metricset, interval: '1m' },
  labels,
});

function find(docs: StoredDoc[], index: string, match: (d: Record<string, any>) => boolean): Record<string, any> {
  const found = docs.filter((d) => d.index === index && match(d.doc as Record<string, any>));
  assert.equal(found.length, 1, `exactly one ${index} document expected, found ${found.length}`);
  return found[0]!.doc as Record<string, any>;
}

test('nothing is written before the interval ends; at the boundary every group of it is', async () => {
  const { clock, written, aggregator } = setup();
  aggregator.observe(translated());
  await aggregator.harvest();
  clock.advance(29_999);
  await aggregator.harvest();
  assert.equal(written.length, 0);
  clock.advance(1);
  await aggregator.harvest();
  assert.equal(written.length, 14);
  assert.ok(written.every((d) => d.kind === 'metric'));
  const counts: Record<string, number> = {};
  for (const d of written) counts[d.index] = (counts[d.index] ?? 0) + 1;
  assert.deepEqual(counts, {
    'metrics-apm.transaction.1m-default': 4,
    'metrics-apm.service_transaction.1m-default': 3,
    'metrics-apm.service_destination.1m-default': 4,
    'metrics-apm.service_summary.1m-default': 3,
  });
  await aggregator.harvest();
  assert.equal(written.length, 14, 'an interval is written once');
});

test('service_destination: one document per span name, outcome, target and resource; sums in ns truncated to µs', async () => {
  const { clock, written, aggregator } = setup();
  aggregator.observe(translated());
  clock.advance(30_000);
  await aggregator.harvest();
  const index = 'metrics-apm.service_destination.1m-default';
  assert.deepEqual(find(written, index, (d) => d.service.target.type === 'postgresql'), {
    ...base('service_destination', 'router-service'),
    service: { ...service('router-service'), target: { type: 'postgresql', name: 'comm_aggregator' } },
    span: { name: 'pg.query:INSERT comm_aggregator', destination: { service: { resource: 'postgresql', response_time: { count: 4, sum: { us: 7751 } } } } },
    event: { received: RECEIVED, outcome: 'success' },
    _doc_count: 4,
  });
  assert.deepEqual(find(written, index, (d) => d.service.target.type === 'kafka'), {
    ...base('service_destination', 'router-service'),
    service: { ...service('router-service'), target: { type: 'kafka', name: 'send.email' } },
    span: { name: 'send send.email', destination: { service: { resource: 'kafka/send.email', response_time: { count: 2, sum: { us: 4250 } } } } },
    event: { received: RECEIVED, outcome: 'success' },
    _doc_count: 2,
  });
  for (const [outcome, us] of [['success', 12_000], ['failure', 30_000]] as const) {
    assert.deepEqual(find(written, index, (d) => d.service.target.type === 'http' && d.event.outcome === outcome), {
      ...base('service_destination', 'delivery-service'),
      service: { ...service('delivery-service'), target: { type: 'http', name: 'api.sendgrid.com:443' } },
      span: { name: 'POST', destination: { service: { resource: 'api.sendgrid.com:443', response_time: { count: 1, sum: { us } } } } },
      event: { received: RECEIVED, outcome },
      _doc_count: 1,
    });
  }
});

test('transaction: HDR histogram per name/type/result/outcome with summary and success_count', async () => {
  const { clock, written, aggregator } = setup();
  aggregator.observe(translated());
  clock.advance(30_000);
  await aggregator.harvest();
  const index = 'metrics-apm.transaction.1m-default';
  const txnService = (name: string) => ({ ...service(name), version: '1.2.3' });
  const host = { hostname: 'box-1', name: 'box-1' };
  // 20 ms and 35 ms → buckets 20095 and 35071 µs.
  assert.deepEqual(find(written, index, (d) => d.transaction.name === 'POST /v1/messages'), {
    ...base('transaction', 'router-service'),
    service: txnService('router-service'), host,
    transaction: { name: 'POST /v1/messages', type: 'request', result: 'HTTP 2xx', root: true, duration: { histogram: { values: [20095, 35071], counts: [1, 1] }, summary: { value_count: 2, sum: 55166 } } },
    event: { received: RECEIVED, outcome: 'success', success_count: { value_count: 2, sum: 2 } },
    _doc_count: 2,
  });
  // Consumers have a parent (the producer): not root. 29 ms → 29055; 40 ms → 40191.
  assert.deepEqual(find(written, index, (d) => d.transaction.name === 'process send.email' && d.event.outcome === 'success'), {
    ...base('transaction', 'delivery-service'),
    service: txnService('delivery-service'), host,
    transaction: { name: 'process send.email', type: 'messaging', result: 'Success', duration: { histogram: { values: [29055], counts: [1] }, summary: { value_count: 1, sum: 29055 } } },
    event: { received: RECEIVED, outcome: 'success', success_count: { value_count: 1, sum: 1 } },
    _doc_count: 1,
  });
  assert.deepEqual(find(written, index, (d) => d.transaction.name === 'process send.email' && d.event.outcome === 'failure'), {
    ...base('transaction', 'delivery-service'),
    service: txnService('delivery-service'), host,
    transaction: { name: 'process send.email', type: 'messaging', result: 'Error', duration: { histogram: { values: [40191], counts: [1] }, summary: { value_count: 1, sum: 40191 } } },
    event: { received: RECEIVED, outcome: 'failure', success_count: { value_count: 1, sum: 0 } },
    _doc_count: 1,
  });
  // The read 45 s later belongs to the next minute: its own documents, same flush.
  assert.deepEqual(find(written, index, (d) => d.transaction.name === 'GET /v1/messages/:id'), {
    ...base('transaction', 'router-service', '2023-11-14T22:14:00.000Z'),
    service: txnService('router-service'), host,
    transaction: { name: 'GET /v1/messages/:id', type: 'request', result: 'HTTP 2xx', root: true, duration: { histogram: { values: [1003], counts: [1] }, summary: { value_count: 1, sum: 1003 } } },
    event: { received: RECEIVED, outcome: 'success', success_count: { value_count: 1, sum: 1 } },
    _doc_count: 1,
  });
});

test('service_transaction and service_summary', async () => {
  const { clock, written, aggregator } = setup();
  aggregator.observe(translated());
  clock.advance(30_000);
  await aggregator.harvest();
  const index = 'metrics-apm.service_transaction.1m-default';
  assert.deepEqual(find(written, index, (d) => d.service.name === 'delivery-service'), {
    ...base('service_transaction', 'delivery-service'),
    transaction: { type: 'messaging', duration: { histogram: { values: [29055, 40191], counts: [1, 1] }, summary: { value_count: 2, sum: 69246 } } },
    event: { received: RECEIVED, success_count: { value_count: 2, sum: 1 } },
    _doc_count: 2,
  });
  assert.deepEqual(find(written, index, (d) => d.service.name === 'router-service' && d['@timestamp'] === '2023-11-14T22:13:00.000Z'), {
    ...base('service_transaction', 'router-service'),
    transaction: { type: 'request', duration: { histogram: { values: [20095, 35071], counts: [1, 1] }, summary: { value_count: 2, sum: 55166 } } },
    event: { received: RECEIVED, success_count: { value_count: 2, sum: 2 } },
    _doc_count: 2,
  });
  const summaries = written.filter((d) => d.index === 'metrics-apm.service_summary.1m-default').map((d) => d.doc);
  assert.deepEqual(summaries.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), [
    base('service_summary', 'delivery-service'),
    base('service_summary', 'router-service'),
    base('service_summary', 'router-service', '2023-11-14T22:14:00.000Z'),
  ]);
});

test('close writes the open interval; a refused write is retried at the next harvest with the same ids', async () => {
  let refuse = true;
  const attempts: StoredDoc[][] = [];
  const { clock, aggregator } = setup(async (docs) => {
    attempts.push([...docs]);
    if (refuse) throw new Error('store unavailable');
  });
  aggregator.observe(translated());
  clock.advance(30_000);
  await aggregator.harvest();
  assert.equal(attempts.length, 1);
  refuse = false;
  aggregator.observe(translated().filter((d) => d.kind === 'log' || d.kind === 'error')); // open interval: one summary
  await aggregator.close();
  assert.equal(attempts.length, 2);
  assert.deepEqual(attempts[1]!.slice(0, 14).map((d) => d.id), attempts[0]!.map((d) => d.id));
  assert.deepEqual(attempts[1]!.slice(14).map((d) => d.index), ['metrics-apm.service_summary.1m-default']);
  assert.equal(new Set(attempts[1]!.map((d) => d.id)).size, attempts[1]!.length);
});

test('close gives up on a write the store never answers, so shutdown keeps its deadline', async () => {
  const clock = manualClock(new Date('2023-11-14T22:13:30.000Z'));
  const aggregator = createApmAggregator({ clock, logger: silentLogger(), closeTimeoutMs: 20, write: () => new Promise(() => undefined) });
  aggregator.observe(translated());
  await aggregator.close();
});
