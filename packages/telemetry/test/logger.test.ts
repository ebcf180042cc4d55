import test from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { startTelemetry } from '../src/start-telemetry';

// As in a service's main.ts: the SDK (and its winston instrumentation) starts before winston loads.
process.env.OTEL_NODE_ENABLED_INSTRUMENTATIONS = 'winston';
const telemetry = startTelemetry({ serviceName: 'logger-test', serviceVersion: '1.2.3', environment: 'test', otlpEndpoint: '', spanExporter: new InMemorySpanExporter() });
const { createLogger, inSpan } = require('../src') as typeof import('../src');

function capture() {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { stream, lines };
}

test.after(() => telemetry.shutdown());

test('a log line inside an active span is ECS JSON with trace.id, span.id and transaction.id; recipients stay masked', async () => {
  const { stream, lines } = capture();
  const logger = createLogger({ service: 'router-service', level: 'info', serviceVersion: '1.2.3', environment: 'test', stream });
  let ids = { traceId: '', entry: '', inner: '' };
  await inSpan('POST /v1/messages', {}, async (entry) => {
    await inSpan('accept message', {}, async (inner) => {
      ids = { traceId: inner.spanContext().traceId, entry: entry.spanContext().spanId, inner: inner.spanContext().spanId };
      logger.child({ messageId: 'm-1' }).warn('could not reach alice@example.com', { to: 'alice@example.com', error: 'provider timeout' });
    });
  }, { kind: SpanKind.SERVER });

  assert.equal(lines.length, 1);
  const line = lines[0]!;
  assert.equal(line['trace.id'], ids.traceId);
  assert.equal(line['span.id'], ids.inner);
  assert.equal(line['transaction.id'], ids.entry, 'transaction.id is the entry (SERVER) span');
  assert.equal(line['log.level'], 'warn');
  assert.equal(line['service.name'], 'router-service');
  assert.equal(line['service.version'], '1.2.3');
  assert.equal(line['service.environment'], 'test');
  assert.equal(line['event.dataset'], 'router-service');
  assert.match(String(line['ecs.version']), /^\d+\.\d+\.\d+$/);
  assert.ok(!Number.isNaN(Date.parse(String(line['@timestamp']))));
  assert.equal(line.messageId, 'm-1');
  assert.deepEqual(line.error, { message: 'provider timeout' });
  // Masking happens before the ECS format: neither the field nor the free text shows the address.
  assert.equal(line.to, '[masked]');
  assert.doesNotMatch(JSON.stringify(line), /alice@example\.com/);
  // Non-ECS duplicates are gone: no snake_case correlation fields, no `level`, no `service` string.
  for (const key of ['trace_id', 'span_id', 'trace_flags', 'level', 'service']) assert.ok(!(key in line), `${key} not in the line`);
});

test('a log line outside any span has no tracing fields', () => {
  const { stream, lines } = capture();
  createLogger({ service: 'delivery-service', level: 'info', stream }).info('listening', { port: 3001 });
  assert.equal(lines.length, 1);
  const line = lines[0]!;
  assert.equal(line.message, 'listening');
  assert.equal(line.port, 3001);
  for (const key of ['trace.id', 'span.id', 'transaction.id']) assert.ok(!(key in line), `${key} not in the line`);
});
