import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { waitFor } from '@ca/testing';
import type { Store, WriteResult } from '../../src/sinks/store';
import type { StoredDoc } from '../../src/translate/documents';
import { encodeTraces, span, traceRequest } from '../fixtures/otlp-fixtures';
import { JSON_TYPE, PROTOBUF, startService } from '../helpers';

/** A store that keeps what it is given (the limits under test sit in front of it). */
function memoryStore() {
  const written: StoredDoc[] = [];
  const store: Store = {
    kind: 'postgres',
    start: async () => undefined,
    write: async (docs): Promise<WriteResult> => {
      written.push(...docs);
      return { rejected: 0, reasons: [] };
    },
    getTrace: async () => null,
    searchLogs: async () => [],
    ready: async () => undefined,
    close: async () => undefined,
  };
  return { store, written };
}

/** A chunked upload that sends one byte per second and never finishes on its own. */
function slowUpload(url: string) {
  const u = new URL(`${url}/v1/traces`);
  const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: PROTOBUF });
  const answer = new Promise<{ status: number; type: string; closed: boolean }>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), closed: res.headers.connection === 'close' }));
    });
    req.on('error', reject);
  });
  req.flushHeaders();
  const timer = setInterval(() => req.write(Buffer.from([0x0a])), 1000);
  req.write(Buffer.from([0x0a]));
  return { answer: answer.finally(() => clearInterval(timer)), stop: () => { clearInterval(timer); req.destroy(); } };
}

test('four 1 byte/s uploads hold no export slot: a normal export goes through, and they are cut off at the body deadline', async (t) => {
  const { store, written } = memoryStore();
  const svc = await startService(store, { maxInFlight: 4, bodyTimeoutMs: 2500 });
  t.after(() => svc.close());
  const slow = Array.from({ length: 4 }, () => slowUpload(svc.url));
  t.after(() => slow.forEach((s) => s.stop()));
  await new Promise((r) => setTimeout(r, 300)); // the slow uploads are under way (their first byte is in)

  const started = Date.now();
  const res = await fetch(`${svc.url}/v1/traces`, { method: 'POST', body: encodeTraces(traceRequest()), headers: PROTOBUF });
  assert.equal(res.status, 200);
  assert.equal(written.length, 9);
  assert.ok(Date.now() - started < 2500, 'the normal export did not wait for the slow ones');

  for (const s of slow) {
    const a = await s.answer;
    assert.equal(a.status, 408);
    assert.match(a.type, /application\/x-protobuf/); // a protobuf request gets a google.rpc.Status
    assert.equal(a.closed, true);
  }
  assert.ok(Date.now() - started < 15_000);
});

test('a body that decodes past INGEST_MAX_BODY_BYTES → 413 problem+json; so does an export over INGEST_MAX_RECORDS', async (t) => {
  const { store, written } = memoryStore();
  const svc = await startService(store, { maxBodyBytes: 64 * 1024, maxRecords: 5 });
  t.after(() => svc.close());
  const bomb = gzipSync(Buffer.from(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span({ id: 'eee19b7ec3c1b174', name: 'x'.repeat(200_000), kind: 2, from: 0, to: 1 })] }] }] })));
  assert.ok(bomb.length < 64 * 1024);
  const r1 = await fetch(`${svc.url}/v1/traces`, { method: 'POST', body: bomb, headers: { ...JSON_TYPE, 'content-encoding': 'gzip' } });
  assert.equal(r1.status, 413);
  assert.equal(r1.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  assert.equal(((await r1.json()) as { code: string }).code, 'PAYLOAD_TOO_LARGE');

  const many = { resourceSpans: [{ scopeSpans: [{ spans: Array.from({ length: 6 }, (_, i) => span({ id: `eee19b7ec3c1b17${i}`, name: 'n', kind: 2, from: 0, to: 1 })) }] }] };
  const r2 = await fetch(`${svc.url}/v1/traces`, { method: 'POST', body: JSON.stringify(many), headers: JSON_TYPE });
  assert.equal(r2.status, 413);
  assert.match(((await r2.json()) as { detail: string }).detail, /holds 6 spans; at most 5/);
  const r3 = await fetch(`${svc.url}/v1/traces`, { method: 'POST', body: encodeTraces(many), headers: PROTOBUF });
  assert.equal(r3.status, 413);
  assert.equal(written.length, 0);
});

test('exports larger than one chunk are stored whole, log ids stay distinct across chunks', async (t) => {
  const { store, written } = memoryStore();
  const svc = await startService(store);
  t.after(() => svc.close());
  const records = Array.from({ length: 1234 }, () => ({ timeUnixNano: '1700000000000000000', body: { stringValue: 'same line' } }));
  const res = await fetch(`${svc.url}/v1/logs`, { method: 'POST', body: JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: records }] }] }), headers: JSON_TYPE });
  assert.equal(res.status, 200);
  await waitFor('documents', async () => written.length === 1234);
  assert.equal(new Set(written.map((d) => d.id)).size, 1234);
});
