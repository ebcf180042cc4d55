import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { isWholeTrace, readTrace, startSystem, waitFor } from '@ca/testing';

/**
 * GraphQL is a door to the same journey: one sendMessage is one trace from the GraphQL operation
 * through the outbox and Kafka to delivery's provider call, and the listing's status projection
 * follows delivery's status events (messages(filter: {status: SENT}) finds it).
 */

interface Span {
  spanId: string;
  parentSpanId: string | null;
  service: string;
  name: string;
  kind: string;
  attributes: Record<string, unknown>;
}

/** The operation's span (@opentelemetry/instrumentation-graphql names it `<type> <name>`). */
const isExecute = (s: Span) => s.attributes['graphql.operation.type'] === 'mutation';

test('one sendMessage, one trace: GraphQL operation → accept → Kafka → delivery; the listing sees it sent', async (t) => {
  const system = await startSystem({ database: 'comm_aggregator_gqltest', env: { KAFKA_TOPIC_PREFIX: `gql.${randomUUID().slice(0, 8)}.` } });
  t.after(() => system.stop());
  const { router, logging } = system.urls;
  const auth = { authorization: `Bearer ${system.apiKey}` };
  const gql = async (query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const res = await fetch(`${router}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...auth, ...headers },
      body: JSON.stringify({ query, variables }),
    });
    assert.equal(res.status, 200);
    return (await res.json()) as { data: Record<string, any>; errors?: unknown[] };
  };

  const traceId = randomBytes(16).toString('hex');
  const clientSpanId = randomBytes(8).toString('hex');
  const to = `gql.${randomUUID().slice(0, 6)}@example.com`;
  const sent = await gql(
    'mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { id traceId } }',
    { input: { channel: 'EMAIL', to, subject: 'GraphQL', body: `hello ${randomUUID()}` } },
    { traceparent: `00-${traceId}-${clientSpanId}-01` },
  );
  assert.equal(sent.errors, undefined);
  const { id } = sent.data.sendMessage as { id: string; traceId: string };
  assert.equal(sent.data.sendMessage.traceId, traceId, 'the client trace continues');

  await waitFor('the message to be sent', async () => {
    const r = await gql('query One($id: ID!) { message(id: $id) { status } }', { id });
    // SENT, or DELIVERED when provider-sim's receipt (on under npm start) has already come back.
    return ['SENT', 'DELIVERED'].includes(r.data.message?.status) ? true : null;
  }, 30_000, 100);
  await waitFor('the listing projection to show it sent', async () => {
    const r = await gql('query { sent: messages(filter: { status: SENT }) { edges { node { id deliveryAttempts } } } delivered: messages(filter: { status: DELIVERED }) { edges { node { id deliveryAttempts } } } }', {});
    const edges = [...r.data.sent.edges, ...r.data.delivered.edges] as Array<{ node: { id: string; deliveryAttempts: number } }>;
    const edge = edges.find((e) => e.node.id === id);
    return edge && edge.node.deliveryAttempts === 1 ? true : null;
  }, 30_000, 200);

  const trace = await waitFor('the trace in logging-service', async () => {
    const view = await readTrace<Span>(logging, traceId, system.apiKey);
    if (!view) return null;
    // Whole: a delivery receipt's spans (provider-sim → delivery-service → router) arrive in batches of their own.
    return view.spans.some((s) => s.name === 'provider.send') && view.spans.some(isExecute) && isWholeTrace(view.spans, clientSpanId) ? view : null;
  }, 30_000, 250);

  const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
  const ancestors = (s: Span): Span[] => {
    const out: Span[] = [];
    for (let p = s.parentSpanId ? byId.get(s.parentSpanId) : undefined; p; p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined) out.push(p);
    return out;
  };
  assert.ok(trace.services.includes('router-service') && trace.services.includes('delivery-service'));
  const execute = trace.spans.find(isExecute)!;
  assert.equal(execute.name, 'mutation Send');
  assert.ok(trace.spans.some((s) => s.name === 'graphql.parse') && trace.spans.some((s) => s.name === 'graphql.validate'));
  assert.ok(!JSON.stringify(trace).includes(to), 'the recipient never reaches a span');
  // The accept (route span) runs inside the GraphQL operation, and delivery's attempt descends from it.
  const route = trace.spans.find((s) => s.service === 'router-service' && s.attributes['ca.message.id'] === id && ancestors(s).includes(execute));
  assert.ok(route, 'the accept span is inside graphql.execute');
  const attempt = trace.spans.find((s) => s.name === 'delivery.attempt')!;
  assert.ok(ancestors(attempt).includes(route), 'delivery descends from the GraphQL accept');
  const orphans = trace.spans.filter((s) => s.parentSpanId && !byId.has(s.parentSpanId));
  assert.deepEqual(orphans.map((s) => s.parentSpanId), [clientSpanId]);
});
