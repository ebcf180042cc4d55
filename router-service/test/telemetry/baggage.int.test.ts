import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { DEFAULT_INSTRUMENTATIONS } from '@ca/telemetry/src/instrumentations';
import { startTelemetry } from '@ca/telemetry/start';

// The SDK runs as in main.ts (its propagator is what decides whether baggage travels); the harness,
// which loads express, pg and kafkajs, is required only after it.
process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS = DEFAULT_INSTRUMENTATIONS;
const telemetry = startTelemetry({ serviceName: 'router-service', serviceVersion: 'test', environment: 'test', otlpEndpoint: '', spanExporter: new InMemorySpanExporter() });
const { readRecords, useBroker } = require('../support/kafka') as typeof import('../support/kafka');
const { AUTH, defer, postMessage, SAMPLES, startRouter } = require('../support/router-harness') as typeof import('../support/router-harness');

const brokers = useBroker();
const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const BAGGAGE = 'secret=hunter2,userId=jane%40example.com';

test("a client's baggage header reaches neither the outbox row, the Kafka record nor the status call to delivery-service", async (t) => {
  defer(t, () => telemetry.shutdown());
  const calls: Array<Record<string, string>> = [];
  const fakeFetch: typeof fetch = (_url, init) => {
    calls.push({ ...(init?.headers as Record<string, string>) });
    return Promise.resolve(new Response(null, { status: 404 }));
  };
  const h = await startRouter(t, { brokers: brokers(), fetch: fakeFetch });
  const headers = { traceparent: `00-${CLIENT_TRACE}-00f067aa0ba902b7-01`, baggage: BAGGAGE };
  const res = await postMessage(h.url, SAMPLES.sms, headers);
  assert.equal(res.status, 202);
  assert.equal(res.body.traceId, CLIENT_TRACE, 'trace context itself still propagates');

  const rows = await h.db('outbox').select<Array<{ headers: Record<string, string> }>>('headers');
  assert.equal(rows.length, 1);
  assert.match(rows[0]?.headers.traceparent ?? '', new RegExp(`^00-${CLIENT_TRACE}-`));
  assert.equal(rows[0]?.headers.baggage, undefined);
  assert.doesNotMatch(JSON.stringify(rows), /hunter2|secret/);

  h.service.relay.start();
  const [record] = await readRecords(brokers(), [h.topics.send('sms')], 1);
  assert.ok(record);
  assert.equal(record.headers.baggage, undefined);
  assert.doesNotMatch(JSON.stringify(record.headers), /hunter2|secret/);

  const view = await fetch(`${h.url}/v1/messages/${String(res.body.id)}`, { headers: { ...AUTH, ...headers } });
  assert.equal(view.status, 200);
  assert.equal(calls.length, 1);
  assert.equal(calls[0]?.baggage, undefined);
  assert.match(calls[0]?.traceparent ?? '', new RegExp(`^00-${CLIENT_TRACE}-`));
});
