import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { contentEncodingOf, decodeLogs, decodeTraces, formatOf, inflate } from '../../src/otlp/decode-request';
import { MalformedOtlpError, PayloadTooLargeError, UnsupportedMediaError } from '../../src/errors';
import { encodeTraces, IDS, span, TRACE_ID, traceRequest } from '../fixtures/otlp-fixtures';

test('content types map to encodings', () => {
  assert.equal(formatOf('application/x-protobuf'), 'protobuf');
  assert.equal(formatOf('application/json; charset=utf-8'), 'json');
  assert.equal(formatOf('text/plain'), null);
  assert.equal(formatOf(undefined), null);
});

test('gzip bodies are inflated; bombs and garbage are refused', async () => {
  const body = encodeTraces(traceRequest());
  assert.deepEqual(await inflate(gzipSync(body), 'gzip', 1 << 20), body);
  await assert.rejects(inflate(gzipSync(Buffer.alloc(100_000)), 'gzip', 10_000), PayloadTooLargeError);
  await assert.rejects(inflate(Buffer.from('not gzip'), 'gzip', 10_000), MalformedOtlpError);
  assert.throws(() => contentEncodingOf('br'), UnsupportedMediaError);
  assert.equal(contentEncodingOf(undefined), 'identity');
});

test('spans with invalid ids are rejected one by one, the rest accepted', () => {
  const req = { resourceSpans: [{ scopeSpans: [{ spans: [
    span({ id: IDS.server, name: 'ok', kind: 2, from: 0, to: 1 }),
    span({ id: 'xyz', name: 'bad span id', kind: 2, from: 0, to: 1 }),
    span({ id: IDS.pg, name: 'zero trace id', kind: 2, from: 0, to: 1, traceId: '0'.repeat(32) }),
  ] }] }] };
  const decoded = decodeTraces(Buffer.from(JSON.stringify(req)), 'json');
  assert.equal(decoded.records.length, 1);
  assert.equal(decoded.rejected, 2);
  assert.deepEqual(decoded.rejectReasons, ['invalid trace_id or span_id']);
  assert.equal(decoded.records[0]?.traceId, TRACE_ID);
  assert.equal(decoded.records[0]?.resource['service.name'], undefined);
});

test('OTLP/JSON enums may be names, int64 may be numbers; uppercase hex ids are lowered', () => {
  const req = { resourceSpans: [{ scopeSpans: [{ spans: [{
    traceId: TRACE_ID.toUpperCase(), spanId: IDS.server.toUpperCase(), name: 'n', kind: 'SPAN_KIND_CONSUMER',
    startTimeUnixNano: 1_700_000_000_000_000_000, endTimeUnixNano: '1700000000500000000', status: { code: 'STATUS_CODE_ERROR' },
    attributes: [{ key: 'big', value: { intValue: '9007199254740993' } }, { key: 'n', value: { intValue: 7 } }, { key: 'b', value: { bytesValue: 'AQI=' } }],
  }] }] }] };
  const [s] = decodeTraces(Buffer.from(JSON.stringify(req)), 'json').records;
  assert.ok(s);
  assert.equal(s.traceId, TRACE_ID);
  assert.equal(s.spanId, IDS.server);
  assert.equal(s.kind, 'CONSUMER');
  assert.equal(s.status.code, 'error');
  assert.equal(s.endNs - s.startNs, 500_000_000n);
  assert.deepEqual(s.attributes, { big: '9007199254740993', n: 7, b: 'AQI=' });
});

test('malformed bodies throw MalformedOtlpError', () => {
  assert.throws(() => decodeTraces(Buffer.from('{nope'), 'json'), MalformedOtlpError);
  assert.throws(() => decodeTraces(Buffer.from('[1,2]'), 'json'), MalformedOtlpError);
  assert.throws(() => decodeTraces(Buffer.from(JSON.stringify({ resourceSpans: {} })), 'json'), MalformedOtlpError);
  assert.throws(() => decodeTraces(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), 'protobuf'), MalformedOtlpError);
  assert.throws(() => decodeLogs(Buffer.from(JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: 'x' }] }] })), 'json'), MalformedOtlpError);
});
