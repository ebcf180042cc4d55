import test from 'node:test';
import assert from 'node:assert/strict';
import { createDeliveryMetrics, createIngestMetrics, createRouterMetrics } from '../src';
import { prometheusHarness, sample } from './support';

test('router and delivery instruments appear on /metrics with channel, provider, tenant and outcome labels', async (t) => {
  const h = await prometheusHarness();
  t.after(() => h.close());
  const router = createRouterMetrics({ meter: h.meter });
  const delivery = createDeliveryMetrics({ meter: h.meter });
  const tenant = '11111111-1111-4111-8111-111111111111';
  router.recordAccepted({ channel: 'email', tenantId: tenant });
  router.recordAccepted({ channel: 'email', tenantId: tenant });
  const acceptedAt = new Date('2026-01-01T00:00:00Z');
  delivery.recordSent({ channel: 'email', provider: 'sim-email', tenantId: tenant, attempts: 2, acceptedAt: acceptedAt.toISOString(), at: new Date(acceptedAt.getTime() + 1500) });
  delivery.recordFailed({ channel: 'sms', provider: 'sim-sms', tenantId: null, attempts: 1, acceptedAt: acceptedAt.toISOString(), at: acceptedAt });
  delivery.recordDeadLettered({ channel: 'sms', provider: 'sim-sms', tenantId: tenant, attempts: 5, acceptedAt: acceptedAt.toISOString(), at: acceptedAt });
  delivery.recordRetried({ channel: 'email', provider: 'sim-email', tenantId: tenant, attempts: 1, reason: 'transient_failure' });
  delivery.recordMalformed({ channel: 'push' });

  const text = await h.scrape();
  assert.equal(sample(text, 'ca_router_messages_accepted_total', { channel: 'email', tenant }), 2);
  assert.equal(sample(text, 'ca_delivery_messages_total', { channel: 'email', provider: 'sim-email', tenant, outcome: 'sent' }), 1);
  assert.equal(sample(text, 'ca_delivery_messages_total', { channel: 'sms', provider: 'sim-sms', tenant: 'none', outcome: 'failed' }), 1);
  assert.equal(sample(text, 'ca_delivery_messages_total', { channel: 'sms', outcome: 'dead_lettered' }), 1);
  assert.equal(sample(text, 'ca_delivery_retries_total', { channel: 'email', reason: 'transient_failure', tenant }), 1);
  assert.equal(sample(text, 'ca_delivery_malformed_records_total', { channel: 'push' }), 1);
  // 1.5 s from accept to sent: in the 2.5 s bucket, not in the 1 s one.
  assert.equal(sample(text, 'ca_delivery_accept_to_sent_duration_bucket', { channel: 'email', le: '1' }), 0);
  assert.equal(sample(text, 'ca_delivery_accept_to_sent_duration_bucket', { channel: 'email', le: '2.5' }), 1);
  assert.equal(sample(text, 'ca_delivery_accept_to_sent_duration_sum', { channel: 'email' }), 1.5);
  assert.equal(sample(text, 'ca_delivery_message_attempts_bucket', { channel: 'sms', outcome: 'dead_lettered', le: '4' }), 0);
  assert.equal(sample(text, 'ca_delivery_message_attempts_bucket', { channel: 'sms', outcome: 'dead_lettered', le: '5' }), 1);
});

test('the tenant label is capped: tenants past the limit share "other"', async (t) => {
  const h = await prometheusHarness();
  t.after(() => h.close());
  const router = createRouterMetrics({ meter: h.meter, tenantLabelLimit: 2 });
  const ids = ['a', 'b', 'c', 'd', 'a'].map((c) => `${c.repeat(8)}-0000-4000-8000-000000000000`);
  for (const id of ids) router.recordAccepted({ channel: 'sms', tenantId: id });
  const text = await h.scrape();
  assert.equal(sample(text, 'ca_router_messages_accepted_total', { tenant: ids[0]! }), 2);
  assert.equal(sample(text, 'ca_router_messages_accepted_total', { tenant: ids[1]! }), 1);
  assert.equal(sample(text, 'ca_router_messages_accepted_total', { tenant: 'other' }), 2);
  assert.equal(sample(text, 'ca_router_messages_accepted_total', { tenant: ids[2]! }), undefined);
});

test('ingest counts accepted and rejected records and refused exports by reason', async (t) => {
  const h = await prometheusHarness();
  t.after(() => h.close());
  const ingest = createIngestMetrics({ meter: h.meter });
  ingest.recordExport({ signal: 'traces', accepted: 10, rejected: 2 });
  ingest.recordExport({ signal: 'logs', accepted: 3, rejected: 0 });
  ingest.recordRefused({ signal: 'traces', reason: 'INGEST_BUSY' });
  const text = await h.scrape();
  assert.equal(sample(text, 'ca_ingest_records_total', { signal: 'traces', outcome: 'accepted' }), 10);
  assert.equal(sample(text, 'ca_ingest_records_total', { signal: 'traces', outcome: 'rejected' }), 2);
  assert.equal(sample(text, 'ca_ingest_records_total', { signal: 'logs', outcome: 'accepted' }), 3);
  assert.equal(sample(text, 'ca_ingest_records_total', { signal: 'logs', outcome: 'rejected' }), undefined);
  assert.equal(sample(text, 'ca_ingest_exports_refused_total', { signal: 'traces', reason: 'INGEST_BUSY' }), 1);
});
