import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHttpServer, createServiceApp, sealServiceApp } from '../src';
import { listen, rawRequest, recordingLogger, type RawResponse } from './support';

async function start(t: import('node:test').TestContext, timeouts = { headersTimeoutMs: 10_000, requestTimeoutMs: 15_000, keepAliveTimeoutMs: 5_000 }) {
  const logger = recordingLogger();
  const app = createServiceApp();
  app.get('/ping', (_req, res) => { res.json({ ok: true }); });
  app.post('/upload', (req, res) => { req.resume(); req.on('end', () => res.json({ ok: true })); });
  sealServiceApp(app, logger);
  return { port: await listen(t, createHttpServer(app, timeouts, logger)), logger };
}

function assertProblem(res: RawResponse, status: number, code: string) {
  assert.equal(res.status, status);
  assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  assert.equal(res.headers.connection, 'close');
  assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body));
  const body = JSON.parse(res.body) as { status: number; code: string; type: string };
  assert.equal(body.status, status);
  assert.equal(body.code, code);
  assert.match(body.type, /#[a-z_]+$/);
}

test("Node's own refusals (folded header, bare LF, headers over 16 KB) answer problem+json", async (t) => {
  const s = await start(t);
  const folded = await rawRequest(s.port, ['GET /ping HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n  b\r\n\r\n']);
  assertProblem(folded, 400, 'MALFORMED_REQUEST');
  const bareLf = await rawRequest(s.port, ['GET /ping HTTP/1.1\nHost: x\n\n']);
  assertProblem(bareLf, 400, 'MALFORMED_REQUEST');
  const huge = await rawRequest(s.port, [`GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`]);
  assertProblem(huge, 431, 'HEADERS_TOO_LARGE');
  const garbage = await rawRequest(s.port, ['\x00\x01\x02 nonsense\r\n\r\n']);
  assertProblem(garbage, 400, 'MALFORMED_REQUEST');
  assert.deepEqual(s.logger.lines.filter((l) => l.level === 'error'), []);
});

test('a well-formed request on a raw socket carries nosniff', async (t) => {
  const s = await start(t);
  const res = await rawRequest(s.port, ['GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
});

test('slow headers, a slow body and an idle keep-alive connection are cut off after their timeouts', async (t) => {
  const s = await start(t, { headersTimeoutMs: 1000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 500 });
  // Generous upper bounds: the box is loaded; the point is seconds, not Node's 300 s default.
  const slowHeaders = await rawRequest(s.port, ['GET /ping HTTP/1.1\r\n', 'Host: x\r\n'], { gapMs: 100 });
  assertProblem(slowHeaders, 408, 'REQUEST_TIMEOUT');
  assert.ok(slowHeaders.closedAfterMs >= 900 && slowHeaders.closedAfterMs < 8000, `closed after ${slowHeaders.closedAfterMs} ms`);

  const slowBody = await rawRequest(s.port, ['POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n', 'a'], { gapMs: 100 });
  assert.ok(slowBody.closedAfterMs >= 1900 && slowBody.closedAfterMs < 9000, `closed after ${slowBody.closedAfterMs} ms`);
  assert.notEqual(slowBody.status, 200);

  const idle = await rawRequest(s.port, ['GET /ping HTTP/1.1\r\nHost: x\r\n\r\n']);
  assert.equal(idle.status, 200);
  assert.ok(idle.closedAfterMs < 6000, `idle connection closed after ${idle.closedAfterMs} ms`);
  assert.deepEqual(s.logger.lines.filter((l) => l.level === 'error'), []);
});
