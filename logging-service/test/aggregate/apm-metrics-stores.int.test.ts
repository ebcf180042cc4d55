import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { createDb } from '@ca/postgres';
import { TEMPLATES_DIR } from '../../src/sinks/create-store';
import { createElasticsearchStore } from '../../src/sinks/elasticsearch-store';
import { createPostgresStore } from '../../src/sinks/postgres-store';
import { JSON_TYPE, startService, TEST_DATABASE_URL } from '../helpers';
import { startFakeElasticsearch } from '../sinks/fake-elasticsearch';
import { journeyRequest } from './journey-fixture';

const METRIC_COUNTS = {
  'metrics-apm.service_destination.1m-default': 4,
  'metrics-apm.service_summary.1m-default': 3,
  'metrics-apm.service_transaction.1m-default': 3,
  'metrics-apm.transaction.1m-default': 4,
};

const post = (url: string) => fetch(`${url}/v1/traces`, { method: 'POST', body: JSON.stringify(journeyRequest()), headers: JSON_TYPE });

test('PostgreSQL store: the metric documents of an export land in the documents table at shutdown', async (t) => {
  const schema = `t_${randomUUID().slice(0, 8)}`;
  const store = createPostgresStore({ url: TEST_DATABASE_URL, schema, retryAfterSeconds: 7 });
  const reader = createDb({ url: TEST_DATABASE_URL, schema });
  t.after(async () => {
    await reader.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    await reader.destroy();
  });
  const svc = await startService(store);
  assert.equal((await post(svc.url)).status, 200);
  await svc.close();

  const rows: Array<{ data_stream: string; service: string; doc: Record<string, any> }> = await reader.withSchema(schema).table('documents')
    .select('data_stream', 'service', 'doc').where({ kind: 'metric' });
  const counts: Record<string, number> = {};
  for (const r of rows) counts[r.data_stream] = (counts[r.data_stream] ?? 0) + 1;
  assert.deepEqual(Object.fromEntries(Object.entries(counts).sort()), METRIC_COUNTS);
  const pg = rows.find((r) => r.doc.service?.target?.type === 'postgresql');
  assert.deepEqual(pg?.doc.span, { name: 'pg.query:INSERT comm_aggregator', destination: { service: { resource: 'postgresql', response_time: { count: 4, sum: { us: 7751 } } } } });
  assert.equal(pg?.service, 'router-service');
  // The trace API still shows only spans.
  const trace = (await reader.withSchema(schema).table('documents').count({ n: '*' }).whereNot({ kind: 'metric' }).first()) as { n: string };
  assert.ok(Number(trace.n) > 0);
});

test('Elasticsearch store: metric documents go to the metrics-apm data streams through the bulk path', async (t) => {
  const es = await startFakeElasticsearch();
  t.after(() => es.close());
  const client = new Client({ node: es.url, maxRetries: 0, requestTimeout: 5000 });
  const store = createElasticsearchStore({
    client, templatesDir: TEMPLATES_DIR, retryAfterSeconds: 4, sleep: async () => undefined,
    bulk: { flushBytes: 1_000_000, concurrency: 1, retries: 2, waitMs: 5, maxAttempts: 3 },
  });
  const svc = await startService(store);
  assert.equal((await post(svc.url)).status, 200);
  await svc.close();

  const metrics = [...es.docs.values()].filter((d) => d.index.startsWith('metrics-apm.'));
  const counts: Record<string, number> = {};
  for (const d of metrics) counts[d.index] = (counts[d.index] ?? 0) + 1;
  assert.deepEqual(Object.fromEntries(Object.entries(counts).sort()), METRIC_COUNTS);
  const template = es.templates.get('ca-metrics-apm') as { index_patterns: string[]; template: { mappings: { properties: Record<string, any> } } };
  assert.ok(metrics.every((d) => template.index_patterns.some((p) => new RegExp(`^${p.replaceAll('.', '\\.').replaceAll('*', '.*')}$`).test(d.index))));
  const props = template.template.mappings.properties;
  assert.equal(props.transaction.properties.duration.properties.histogram.type, 'histogram');
  assert.equal(props.transaction.properties.duration.properties.summary.type, 'aggregate_metric_double');
  assert.equal(props.event.properties.success_count.type, 'aggregate_metric_double');
});
