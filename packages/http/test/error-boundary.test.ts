import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import express, { Router } from 'express';
import { createHttpServer, createServiceApp, HttpProblem, sealServiceApp } from '../src';
import { listen, rawRequest, recordingLogger } from './support';

const TIMEOUTS = { headersTimeoutMs: 10_000, requestTimeoutMs: 15_000, keepAliveTimeoutMs: 5_000 };

/** A service shaped like ours: a router with POST / and GET /:id under /v1/things, plus a bug. */
async function start(t: import('node:test').TestContext) {
  const logger = recordingLogger();
  const app = createServiceApp();
  const things = Router();
  things.post('/', express.json({ limit: '1kb' }), (req, res) => { res.status(201).json({ got: req.body as unknown }); });
  things.get('/:id', (req, res) => { res.json({ id: req.params.id }); });
  app.use('/v1/things', things);
  app.get('/v1/bug', () => { throw new Error('secret internal detail'); });
  app.get('/v1/teapot', () => { throw new HttpProblem(418, 'TEAPOT', 'I am a teapot'); });
  sealServiceApp(app, logger);
  const port = await listen(t, createHttpServer(app, TIMEOUTS, logger));
  return { url: `http://127.0.0.1:${port}`, port, logger };
}

async function problem(res: Response) {
  assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  const body = (await res.json()) as { type: string; code: string; status: number; title: string; detail?: string };
  assert.equal(body.status, res.status);
  assert.match(body.type, /^https:\/\/.+#[a-z_]+$/);
  return body;
}

const post = (url: string, body: string | Buffer, headers: Record<string, string>) => fetch(`${url}/v1/things`, { method: 'POST', body, headers });

test('parser errors keep their status as problem+json with a stable code; none is logged as an error', async (t) => {
  const s = await start(t);
  const json = { 'content-type': 'application/json' };
  const cases: Array<[string, Promise<Response>, number, string]> = [
    ['malformed JSON', post(s.url, '{"a":', json), 400, 'MALFORMED_JSON'],
    ['too large', post(s.url, JSON.stringify({ a: 'x'.repeat(5000) }), json), 413, 'PAYLOAD_TOO_LARGE'],
    ['corrupt gzip', post(s.url, Buffer.from('not gzip at all'), { ...json, 'content-encoding': 'gzip' }), 400, 'MALFORMED_CONTENT_ENCODING'],
    ['truncated gzip', post(s.url, gzipSync(JSON.stringify({ a: 'b'.repeat(300) })).subarray(0, 20), { ...json, 'content-encoding': 'gzip' }), 400, 'MALFORMED_CONTENT_ENCODING'],
    ['unknown encoding', post(s.url, '{}', { ...json, 'content-encoding': 'compress' }), 415, 'UNSUPPORTED_ENCODING'],
    ['unknown charset', post(s.url, '{}', { 'content-type': 'application/json; charset=klingon' }), 415, 'UNSUPPORTED_CHARSET'],
    ['bad percent-encoding in a path', fetch(`${s.url}/v1/things/%ZZ`), 400, 'MALFORMED_PATH'],
    ['a 4xx problem a handler threw', fetch(`${s.url}/v1/teapot`), 418, 'TEAPOT'],
  ];
  for (const [name, pending, status, code] of cases) {
    const res = await pending;
    assert.equal(res.status, status, name);
    assert.equal((await problem(res)).code, code, name);
  }
  assert.deepEqual(s.logger.lines.filter((l) => l.level === 'error'), []);
  assert.ok(s.logger.lines.every((l) => !('stack' in l.meta)));
  // The JSON parser's message quotes the body (which may hold a recipient): never logged.
  assert.ok(s.logger.lines.every((l) => !JSON.stringify(l).includes('"a":')));
});

test('a valid gzip body still parses', async (t) => {
  const s = await start(t);
  const res = await post(s.url, gzipSync(JSON.stringify({ a: 1 })), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
  assert.equal(res.status, 201);
  assert.deepEqual(await res.json(), { got: { a: 1 } });
});

test('unknown path → 404 problem; known path with a wrong method → 405 with Allow', async (t) => {
  const s = await start(t);
  const missing = await fetch(`${s.url}/nowhere`);
  assert.equal(missing.status, 404);
  assert.equal((await problem(missing)).code, 'NOT_FOUND');

  const wrong = await fetch(`${s.url}/v1/things`, { method: 'DELETE' });
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get('allow'), 'POST');
  assert.equal((await problem(wrong)).code, 'METHOD_NOT_ALLOWED');

  const wrongOnId = await fetch(`${s.url}/v1/things/abc`, { method: 'PUT', body: '{}' });
  assert.equal(wrongOnId.status, 405);
  assert.equal(wrongOnId.headers.get('allow'), 'GET, HEAD');
  await problem(wrongOnId);

  const ok = await fetch(`${s.url}/v1/things/abc`);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('x-content-type-options'), 'nosniff');
});

test('our own bug → 500 INTERNAL without the message or a stack in the body; logged at error with the stack', async (t) => {
  const s = await start(t);
  const res = await fetch(`${s.url}/v1/bug`);
  assert.equal(res.status, 500);
  const body = await problem(res);
  assert.equal(body.code, 'INTERNAL');
  assert.doesNotMatch(JSON.stringify(body), /secret internal detail|at .+\.ts:\d+/);
  const errors = s.logger.lines.filter((l) => l.level === 'error');
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]?.meta.stack), /secret internal detail/);
});

test('an aborted body is logged at debug, one line, no stack', async (t) => {
  const s = await start(t);
  await rawRequest(s.port, [
    'POST /v1/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"a":"',
  ], { gapMs: 200, endAfterWrite: true });
  const deadline = Date.now() + 10_000;
  while (!s.logger.lines.some((l) => l.meta.code === 'REQUEST_ABORTED') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const aborted = s.logger.lines.filter((l) => l.meta.code === 'REQUEST_ABORTED');
  assert.equal(aborted.length, 1);
  assert.equal(aborted[0]?.level, 'debug');
  assert.equal(aborted[0]?.meta.stack, undefined);
  assert.deepEqual(s.logger.lines.filter((l) => l.level === 'error'), []);
});
