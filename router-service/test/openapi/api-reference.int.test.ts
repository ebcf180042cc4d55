import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROUTER_OPENAPI_FILE } from '../../src/openapi/router-openapi';
import { useBroker } from '../support/kafka';
import { apiFetch, defer, routerResponseChecker, startRouter, testSettings } from '../support/router-harness';

const brokers = useBroker();

test('GET /openapi.json serves the YAML source as JSON, without a key', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const res = await apiFetch(`${h.url}/openapi.json`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(await res.json(), parse(readFileSync(ROUTER_OPENAPI_FILE, 'utf8')));
});

test('GET /docs renders the document with Swagger UI from this origin only (strict CSP, nosniff, no inline script)', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const page = await apiFetch(`${h.url}/docs`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  const csp = page.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  const html = await page.text();
  // Every script and stylesheet is a same-origin file (no CDN, no inline <script> body).
  const srcs = [...html.matchAll(/<(?:script|link)[^>]*(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(srcs.length >= 4, html);
  assert.ok(srcs.every((s) => !/^[a-z]+:|^\/\//i.test(s)), srcs.join(' '));
  assert.doesNotMatch(html, /<script>[^<]/);
  for (const src of srcs) {
    const asset = await apiFetch(new URL(src, `${h.url}/`).href);
    assert.equal(asset.status, 200, src);
    assert.equal(asset.headers.get('x-content-type-options'), 'nosniff');
    const type = asset.headers.get('content-type') ?? '';
    if (src.endsWith('.js')) assert.match(type, /^text\/javascript/);
    if (src.endsWith('.css')) assert.match(type, /^text\/css/);
    assert.ok((await asset.arrayBuffer()).byteLength > 0, src);
  }
  const init = await (await apiFetch(`${h.url}/docs/docs.js`)).text();
  assert.match(init, /SwaggerUIBundle\(/);
  assert.match(init, /openapi\.json/);
  assert.equal((await apiFetch(`${h.url}/docs/../../package.json`)).status, 404);
  assert.equal((await apiFetch(`${h.url}/docs/index.html`)).status, 404);
});

test('with HTTPS_ONLY the reference is refused over plain HTTP like the API (403 HTTPS_REQUIRED)', async (t) => {
  const h = await startRouter(t, { brokers: brokers(), settings: { transport: { httpsOnly: true, httpsPort: 8443, hstsMaxAgeSeconds: 600 } } });
  const res = await apiFetch(`${h.url}/openapi.json`);
  assert.equal(res.status, 403);
  assert.equal(((await res.json()) as { code: string }).code, 'HTTPS_REQUIRED');
});

test('every public operation of the document is routed by the router (none documented that does not exist)', async (t) => {
  // A console build of its own, so /console/ and its assets answer 200 whether or not console/dist exists.
  const consoleDir = mkdtempSync(join(tmpdir(), 'console-'));
  mkdirSync(join(consoleDir, 'assets'));
  writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><script type="module" src="./assets/index-0.js"></script>');
  writeFileSync(join(consoleDir, 'assets/index-0.js'), 'export {};');
  defer(t, () => rmSync(consoleDir, { recursive: true, force: true }));
  const h = await startRouter(t, { brokers: brokers(), settings: { console: { ...testSettings().console, dir: consoleDir } } });
  const sample: Record<string, string> = { channel: 'sms', asset: 'docs.js', recipient: '%2B14155550100', userId: 'user-1', templateId: 'T1' };
  // Internal operations (/metrics, /admin/faults) exist only when configured (metrics on, ADMIN_TOKEN).
  for (const op of routerResponseChecker().operations().filter((o) => !o.internal)) {
    const path = op.path.replace('/console/assets/{asset}', '/console/assets/index-0.js')
      .replace(/\{(\w+)\}/g, (_m, name: string) => sample[name] ?? '00000000-0000-4000-8000-000000000000');
    // Without a key: a routed /v1 operation is 401 (never 404/405); the others answer for themselves.
    const res = await fetch(`${h.url}${path}`, { method: op.method, redirect: 'manual', headers: op.method === 'POST' ? { 'content-type': 'application/json' } : {}, body: op.method === 'POST' ? '{}' : undefined });
    await res.arrayBuffer();
    // The console's sign-in is the one /v1 route before authentication (without our Origin: 403 CSRF_REJECTED).
    if (path === '/v1/session' && op.method === 'POST') assert.equal(res.status, 403, `${op.method} ${op.path}`);
    else if (path.startsWith('/v1/')) assert.equal(res.status, 401, `${op.method} ${op.path}`);
    else assert.ok(![404, 405].includes(res.status), `${op.method} ${op.path} → ${res.status}`);
  }
});
