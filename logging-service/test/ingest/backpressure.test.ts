import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SinkUnavailableError } from '../../src/errors';
import type { Store, WriteResult } from '../../src/sinks/store';
import type { StoredDoc } from '../../src/translate/documents';
import { encodeTraces, traceRequest } from '../fixtures/otlp-fixtures';
import { JSON_TYPE, PROTOBUF, startService } from '../helpers';

/** A store whose writes wait until the test lets them go (or fail), like a backed-up sink. */
function blockedStore() {
  const written: StoredDoc[] = [];
  const waiting: Array<{ go: () => void; fail: (e: Error) => void }> = [];
  const store: Store = {
    kind: 'postgres',
    start: async () => undefined,
    write: (docs) => new Promise<WriteResult>((resolve, reject) => {
      waiting.push({ go: () => { written.push(...docs); resolve({ rejected: 0, reasons: [] }); }, fail: reject });
    }),
    getTrace: async () => null,
    searchLogs: async () => [],
    ready: async () => undefined,
    close: async () => undefined,
  };
  return { store, written, waiting };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i += 1) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), 'condition not reached');
};

test('a backed-up sink: the export over the in-flight bound gets 429 + Retry-After at once; the first gets 200 only once stored', async (t) => {
  const { store, written, waiting } = blockedStore();
  const svc = await startService(store, { maxInFlight: 1, retryAfterSeconds: 7 });
  t.after(() => svc.close());
  const body = encodeTraces(traceRequest());
  let firstDone = false;
  const first = fetch(`${svc.url}/v1/traces`, { method: 'POST', body, headers: PROTOBUF }).then((r) => { firstDone = true; return r; });
  await until(() => waiting.length === 1);

  const second = await fetch(`${svc.url}/v1/traces`, { method: 'POST', body: JSON.stringify(traceRequest()), headers: JSON_TYPE });
  assert.equal(second.status, 429);
  assert.equal(second.headers.get('retry-after'), '7');
  assert.equal(((await second.json()) as { code: string }).code, 'INGEST_BUSY');
  assert.equal(firstDone, false, 'nothing is acknowledged before the store confirms');
  assert.equal(written.length, 0);

  waiting[0]!.go();
  const res = await first;
  assert.equal(res.status, 200);
  assert.equal(written.length, 9);

  // The bound is released: the next export goes through.
  const third = fetch(`${svc.url}/v1/traces`, { method: 'POST', body, headers: PROTOBUF });
  await until(() => waiting.length === 2);
  waiting[1]!.go();
  assert.equal((await third).status, 200);
});

test('a sink that fails after its retries: 503 + Retry-After (protobuf gets a google.rpc.Status)', async (t) => {
  const { store, waiting } = blockedStore();
  const svc = await startService(store);
  t.after(() => svc.close());
  const res = fetch(`${svc.url}/v1/traces`, { method: 'POST', body: encodeTraces(traceRequest()), headers: PROTOBUF });
  await until(() => waiting.length === 1);
  waiting[0]!.fail(new SinkUnavailableError(9, 'down'));
  const r = await res;
  assert.equal(r.status, 503);
  assert.equal(r.headers.get('retry-after'), '9');
  assert.equal(r.headers.get('content-type'), 'application/x-protobuf');
});
