import { kv, resource, span } from '../fixtures/otlp-fixtures';

/**
 * Two message journeys as our instrumentations record them, plus a later read, in one OTLP/JSON
 * export: router-service HTTP server span → two pg client spans → kafka producer →
 * delivery-service consumer → provider HTTP client. Journey A succeeds; in journey B the provider
 * answers 503, the client span records the exception and the consumer ends in error. Offsets are
 * ms after T0 (2023-11-14T22:13:20Z); B's pg spans end on fractions of a µs so the
 * service_destination sums show that apm-aggregation adds nanoseconds before truncating.
 */
export const TRACE_A = 'aaaa0000000000000000000000000001';
export const TRACE_B = 'bbbb0000000000000000000000000002';
export const TRACE_C = 'cccc0000000000000000000000000003';

export const J = {
  aServer: 'a000000000000001', aPg1: 'a000000000000002', aPg2: 'a000000000000003', aProducer: 'a000000000000004',
  aConsumer: 'a000000000000005', aProvider: 'a000000000000006',
  bServer: 'b000000000000001', bPg1: 'b000000000000002', bPg2: 'b000000000000003', bProducer: 'b000000000000004',
  bConsumer: 'b000000000000005', bProvider: 'b000000000000006',
  cServer: 'c000000000000001',
} as const;

type Span = Parameters<typeof span>[0];

const server = (traceId: string, id: string, from: number, to: number, path: string, method: string, status: number): Span => ({
  traceId, id, name: `${method} ${path}`, kind: 2, from, to, attributes: {
    'http.request.method': method, 'url.path': path, 'url.scheme': 'http', 'server.address': 'localhost', 'server.port': 3000,
    'http.route': path, 'http.response.status_code': status, 'network.protocol.version': '1.1' },
});
const pg = (traceId: string, id: string, parent: string, from: number, to: number): Span => ({
  traceId, id, parent, name: 'pg.query:INSERT comm_aggregator', kind: 3, from, to, attributes: {
    'db.system': 'postgresql', 'db.namespace': 'comm_aggregator', 'db.query.text': 'INSERT INTO outbox(payload) VALUES ($1)',
    'server.address': '127.0.0.1', 'server.port': 5432 },
});
const producer = (traceId: string, id: string, parent: string, from: number, to: number): Span => ({
  traceId, id, parent, name: 'send send.email', kind: 4, from, to, attributes: {
    'messaging.system': 'kafka', 'messaging.destination.name': 'send.email', 'messaging.operation.type': 'send' },
});
const consumer = (traceId: string, id: string, parent: string, from: number, to: number, failed: boolean): Span => ({
  traceId, id, parent, name: 'process send.email', kind: 5, from, to, attributes: {
    'messaging.system': 'kafka', 'messaging.destination.name': 'send.email', 'messaging.operation.type': 'process' },
  ...(failed ? { status: { code: 2, message: 'delivery failed' } } : {}),
});
const provider = (traceId: string, id: string, parent: string, from: number, to: number, status: number): Span => ({
  traceId, id, parent, name: 'POST', kind: 3, from, to, attributes: {
    'http.request.method': 'POST', 'url.full': 'https://api.sendgrid.com/v3/mail/send', 'http.response.status_code': status,
    'server.address': 'api.sendgrid.com', 'server.port': 443 },
  ...(status >= 500 ? {
    status: { code: 2, message: 'Service Unavailable' },
    events: [{ timeUnixNano: '1700000000042000000', name: 'exception', attributes: [
      kv('exception.type', 'ProviderUnavailableError'), kv('exception.message', 'provider 503 for +14155550100'),
      kv('exception.stacktrace', 'ProviderUnavailableError: provider 503\n    at send (sendgrid.ts:41:11)')] }],
  } : {}),
});

export function journeyRequest(): Record<string, unknown> {
  const router: Span[] = [
    server(TRACE_A, J.aServer, 0, 20, '/v1/messages', 'POST', 202),
    pg(TRACE_A, J.aPg1, J.aServer, 2, 5.5),
    pg(TRACE_A, J.aPg2, J.aServer, 6, 7.25),
    producer(TRACE_A, J.aProducer, J.aServer, 8, 10.5),
    server(TRACE_B, J.bServer, 0, 35, '/v1/messages', 'POST', 202),
    pg(TRACE_B, J.bPg1, J.bServer, 2, 4.0004),
    pg(TRACE_B, J.bPg2, J.bServer, 5, 6.0007),
    producer(TRACE_B, J.bProducer, J.bServer, 8, 9.75),
    // 45 s later: the next minute.
    server(TRACE_C, J.cServer, 45_000, 45_001, '/v1/messages/:id', 'GET', 200),
  ];
  const delivery: Span[] = [
    consumer(TRACE_A, J.aConsumer, J.aProducer, 11, 40, false),
    provider(TRACE_A, J.aProvider, J.aConsumer, 13, 25, 202),
    consumer(TRACE_B, J.bConsumer, J.bProducer, 11, 51, true),
    provider(TRACE_B, J.bProvider, J.bConsumer, 13, 43, 503),
  ];
  return {
    resourceSpans: [
      { resource: resource('router-service'), scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.200.0' }, spans: router.map(span) }] },
      { resource: resource('delivery-service'), scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-kafkajs', version: '0.10.0' }, spans: delivery.map(span) }] },
    ],
  };
}
