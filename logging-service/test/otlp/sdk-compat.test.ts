import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { ProtobufLogsSerializer, ProtobufTraceSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { decodeLogs, decodeTraces } from '../../src/otlp/decode-request';
import { OTLP_TYPES } from '../../src/otlp/otlp-proto';

/** Our hand-written .proto must read exactly what the OpenTelemetry JS exporters write. */
const resource = resourceFromAttributes({ 'service.name': 'router-service', 'deployment.environment.name': 'test' });

test('spans serialized by the OpenTelemetry JS SDK (protobuf and JSON) decode to the same records', async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('@opentelemetry/instrumentation-kafkajs', '0.10.0');
  const parent = tracer.startSpan('POST /v1/messages', { kind: SpanKind.SERVER, attributes: { 'http.status_code': 202, 'http.method': 'POST' } });
  const ctx = (await import('@opentelemetry/api')).trace.setSpan((await import('@opentelemetry/api')).context.active(), parent);
  const child = tracer.startSpan('send send.email', { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'kafka', flags: [true, false], ratio: 0.5 } }, ctx);
  child.addEvent('exception', { 'exception.type': 'Error', 'exception.message': 'boom' });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  child.end();
  parent.end();
  const spans = exporter.getFinishedSpans();

  const proto = decodeTraces(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!), 'protobuf');
  const json = decodeTraces(Buffer.from(JsonTraceSerializer.serializeRequest(spans)!), 'json');
  assert.deepEqual(proto, json);
  assert.equal(proto.rejected, 0);
  const [c, p] = proto.records;
  assert.ok(c && p);
  assert.equal(p.traceId, parent.spanContext().traceId);
  assert.equal(p.spanId, parent.spanContext().spanId);
  assert.equal(p.kind, 'SERVER');
  assert.equal(c.parentSpanId, p.spanId);
  assert.equal(c.kind, 'PRODUCER');
  assert.deepEqual(c.status, { code: 'error', message: 'boom' });
  assert.deepEqual(c.attributes, { 'messaging.system': 'kafka', flags: [true, false], ratio: 0.5 });
  assert.equal(c.events[0]?.name, 'exception');
  assert.equal(p.resource['service.name'], 'router-service');
  assert.deepEqual(c.scope, { name: '@opentelemetry/instrumentation-kafkajs', version: '0.10.0' });
  assert.ok(p.endNs >= p.startNs && p.startNs > 1_600_000_000_000_000_000n);
  await provider.shutdown();
});

test('log records serialized by the OpenTelemetry JS SDK decode with their ids and severity', async () => {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter })] });
  provider.getLogger('winston').emit({ severityNumber: SeverityNumber.WARN, severityText: 'warn', body: 'slow provider', attributes: { attempt: 2 } });
  await provider.forceFlush();
  const records = exporter.getFinishedLogRecords();
  const decoded = decodeLogs(Buffer.from(ProtobufLogsSerializer.serializeRequest(records)!), 'protobuf');
  assert.equal(decoded.records.length, 1);
  assert.deepEqual({ ...decoded.records[0], timeNs: undefined, observedNs: undefined }, {
    timeNs: undefined, observedNs: undefined, severityNumber: 13, severityText: 'warn', body: 'slow provider', attributes: { attempt: 2 },
    traceId: null, spanId: null, eventName: '', resource: { 'service.name': 'router-service', 'deployment.environment.name': 'test' },
    scope: { name: 'winston', version: '' },
  });
  await provider.shutdown();
});

test('our responses decode with the SDK response deserializer', () => {
  const t = OTLP_TYPES.traceResponse;
  const bytes = t.encode(t.fromObject({ partialSuccess: { rejectedSpans: 2, errorMessage: 'bad ids' } })).finish();
  assert.deepEqual(ProtobufTraceSerializer.deserializeResponse(bytes), { partialSuccess: { rejectedSpans: 2, errorMessage: 'bad ids' } });
});
