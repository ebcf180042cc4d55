import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startSystem, waitFor } from '@ca/testing';

/**
 * GET /metrics on all three services, scraped before and after one message that fails twice and
 * is then sent: the named series exist with their labels, and the counters moved by what the
 * message did (accepted once, two retries, sent on the third attempt, its spans ingested).
 */

type Labels = Record<string, string>;
interface Sample { name: string; labels: Labels; value: number }

function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of every sample `name` whose labels include `labels` (0 when none: a counter not yet touched). */
function sum(samples: Sample[], name: string, labels: Labels = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}
function has(samples: Sample[], name: string, labels: Labels = {}): boolean {
  return samples.some((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

async function scrape(base: string): Promise<Sample[]> {
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200, `${base}/metrics`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return parse(await res.text());
}

test('/metrics on every service: HTTP RED, accepted/sent/retried by channel, provider and tenant, latency, attempts, outbox, consumer lag, ingest', async (t) => {
  const prefix = `sys.${randomUUID().slice(0, 8)}.`;
  const system = await startSystem({
    database: 'comm_aggregator_metrics',
    env: { KAFKA_TOPIC_PREFIX: prefix, BACKOFF_BASE_MS: '200', METRICS_POLL_MS: '200' },
  });
  t.after(() => system.stop());
  const { router, delivery, logging } = system.urls;
  const before = { router: await scrape(router), delivery: await scrape(delivery), logging: await scrape(logging) };

  const res = await fetch(`${router}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${system.apiKey}` },
    body: JSON.stringify({ channel: 'email', to: `fail-transient.${randomUUID().slice(0, 6)}@example.com`, subject: 'Metrics', body: 'count me' }),
  });
  assert.equal(res.status, 202);
  const { id } = (await res.json()) as { id: string };
  await waitFor('the message to be sent', async () => {
    const r = await fetch(`${router}/v1/messages/${id}`, { headers: { authorization: `Bearer ${system.apiKey}` } });
    // `sent`, or `delivered` when provider-sim's receipt (on under npm start) has already come back: either way it was sent.
    return ['sent', 'delivered'].includes(((await r.json()) as { status: string }).status);
  }, 60_000, 100);

  await t.test('router-service: messages accepted by channel and tenant, HTTP server duration, outbox gauges', async () => {
    const after = await scrape(router);
    const accepted = after.filter((s) => s.name === 'ca_router_messages_accepted_total' && s.labels.channel === 'email');
    assert.equal(accepted.length, 1, 'one tenant (the bootstrap merchant) sent email');
    assert.match(accepted[0]!.labels.tenant ?? '', /^[0-9a-f-]{36}$/, 'the tenant label is the merchant id');
    assert.equal(sum(after, 'ca_router_messages_accepted_total', { channel: 'email' }) - sum(before.router, 'ca_router_messages_accepted_total', { channel: 'email' }), 1);
    const post = { http_request_method: 'POST', http_route: '/v1/messages', http_response_status_code: '202' };
    assert.ok(sum(after, 'http_server_request_duration_count', post) - sum(before.router, 'http_server_request_duration_count', post) >= 1, 'POST /v1/messages 202 counted');
    assert.ok(has(after, 'http_server_request_duration_bucket', { ...post, le: '+Inf' }));
    assert.ok(has(after, 'ca_outbox_rows', { state: 'due' }) && has(after, 'ca_outbox_rows', { state: 'scheduled' }));
    assert.ok(has(after, 'ca_outbox_oldest_due_age'));
  });

  await t.test('delivery-service: sent and retried by channel, provider and tenant; accept→sent latency; attempts; consumer lag', async () => {
    const after = await scrape(delivery);
    const sent = after.filter((s) => s.name === 'ca_delivery_messages_total' && s.labels.channel === 'email' && s.labels.outcome === 'sent');
    assert.equal(sent.length, 1);
    assert.ok(sent[0]!.labels.provider, 'provider label');
    assert.match(sent[0]!.labels.tenant ?? '', /^[0-9a-f-]{36}$/);
    const labels = { channel: 'email', provider: sent[0]!.labels.provider! };
    const moved = (name: string, l: Labels = labels) => sum(after, name, l) - sum(before.delivery, name, l);
    assert.equal(moved('ca_delivery_messages_total', { ...labels, outcome: 'sent' }), 1);
    assert.equal(moved('ca_delivery_retries_total', { ...labels, reason: 'transient_failure' }), 2);
    assert.equal(moved('ca_delivery_accept_to_sent_duration_count'), 1);
    assert.ok(moved('ca_delivery_accept_to_sent_duration_sum') > 0);
    assert.equal(moved('ca_delivery_message_attempts_sum', { ...labels, outcome: 'sent' }), 3);
    assert.ok(has(after, 'ca_outbox_rows', { state: 'due' }));
    // Lag is read every METRICS_POLL_MS from the broker; the email group has committed past the message.
    const group = `${prefix}delivery.email`;
    await waitFor('consumer lag of the email group', async () => {
      const now = await scrape(delivery);
      return sum(now, 'ca_kafka_consumer_lag_known', { group }) === 1 && has(now, 'ca_kafka_consumer_lag', { group, topic: `${prefix}send.email` });
    }, 30_000, 250);
  });

  await t.test('logging-service: spans and log records ingested', async () => {
    const moved = (l: Labels) => async () => {
      const after = await scrape(logging);
      return sum(after, 'ca_ingest_records_total', l) > sum(before.logging, 'ca_ingest_records_total', l);
    };
    await waitFor('spans ingested', moved({ signal: 'traces', outcome: 'accepted' }), 30_000, 250);
    await waitFor('log records ingested', moved({ signal: 'logs', outcome: 'accepted' }), 30_000, 250);
  });
});
