import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPostgresStore } from '../src/sinks/postgres-store';
import { startService, TEST_DATABASE_URL } from './helpers';

// The store is never started or asked: the edge answers these before any route reaches it.
test('logging-service: JSON 404 for unknown routes, 405 with Allow for a wrong method, 400 for a bad path, nosniff', async (t) => {
  const store = createPostgresStore({ url: TEST_DATABASE_URL, schema: 'unused_edge', retryAfterSeconds: 1 });
  const svc = await startService({ ...store, start: () => Promise.resolve() });
  t.after(() => svc.close());

  const cases: Array<[string, string, number, string, string | null]> = [
    ['GET', '/nowhere', 404, 'NOT_FOUND', null],
    ['GET', '/v1/traces', 405, 'METHOD_NOT_ALLOWED', 'POST'],
    ['PUT', '/v1/traces/0af7651916cd43dd8448eb211c80319c', 405, 'METHOD_NOT_ALLOWED', 'GET, HEAD'],
    ['DELETE', '/v1/logs', 405, 'METHOD_NOT_ALLOWED', 'GET, HEAD, POST'],
    ['GET', '/v1/traces/%ZZ', 400, 'MALFORMED_PATH', null],
  ];
  for (const [method, path, status, code, allow] of cases) {
    const res = await fetch(svc.url + path, { method });
    assert.equal(res.status, status, `${method} ${path}`);
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('allow'), allow);
    assert.equal(((await res.json()) as { code: string }).code, code);
  }
  assert.equal((await fetch(`${svc.url}/health`)).headers.get('x-content-type-options'), 'nosniff');
});
