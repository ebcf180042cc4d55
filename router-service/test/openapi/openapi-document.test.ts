import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createResponseChecker } from '@ca/testing';
import { loadOpenApiDocument } from '@ca/http';
import { ROUTER_OPENAPI_FILE, routerOpenApiDocument } from '../../src/openapi/router-openapi';
import { NOT_YET_DOCUMENTED_CODES } from '../support/router-harness';

const ROOT = resolve(__dirname, '../../..');
const LOGGING_OPENAPI_FILE = join(ROOT, 'logging-service/openapi/openapi.yaml');

/** Every `code` a problem of these sources can carry: HttpProblem subclasses and the edge's tables. */
function problemCodes(dirs: string[]): Set<string> {
  const codes = new Set<string>();
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) visit(full);
      else if (entry.endsWith('.ts')) {
        const text = readFileSync(full, 'utf8');
        for (const m of text.matchAll(/super\(\s*\d{3},\s*'([A-Z_]+)'/g)) codes.add(m[1]!);
        for (const m of text.matchAll(/HttpProblem\(\s*\d{3},\s*'([A-Z_]+)'/g)) codes.add(m[1]!);
        for (const m of text.matchAll(/\bcode: '([A-Z_]+)'/g)) codes.add(m[1]!);
      }
    }
  };
  dirs.forEach(visit);
  return codes;
}

describe('OpenAPI documents', () => {
  for (const [name, file] of [['router-service', ROUTER_OPENAPI_FILE], ['logging-service', LOGGING_OPENAPI_FILE]] as const) {
    it(`${name}: valid OpenAPI 3.1 (@seriousme/openapi-schema-validator)`, async () => {
      const { Validator } = await import('@seriousme/openapi-schema-validator');
      const validator = new Validator();
      const result = await validator.validate(readFileSync(file, 'utf8'));
      assert.deepEqual(result.errors, undefined, JSON.stringify(result.errors, null, 2));
      assert.equal(result.valid, true);
      assert.equal(validator.version, '3.1');
      // Every local $ref resolves (the validator checks the shape, not the targets).
      const doc = loadOpenApiDocument(file);
      const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
      for (const ref of new Set(refs)) {
        const pointer = JSON.parse(`{${ref}}`).$ref as string;
        const target = pointer.slice(2).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
          .reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), doc);
        assert.ok(target, `${name}: ${pointer} does not resolve`);
      }
    });
  }

  it('router-service: every problem code the router and its edge can answer is in the document', () => {
    const text = JSON.stringify(routerOpenApiDocument());
    const codes = problemCodes(['router-service/src', 'packages/http/src', 'packages/metrics/src', 'packages/faults/src'].map((d) => join(ROOT, d)));
    assert.ok(codes.has('VALIDATION_FAILED') && codes.has('MALFORMED_JSON') && codes.has('HTTPS_REQUIRED'), [...codes].join(', '));
    // Answered by other services' routes only, or before routing (raw on the socket; the document's description names them).
    const elsewhere = new Set(['HEADERS_TOO_LARGE', 'REQUEST_TIMEOUT', 'MALFORMED_REQUEST', 'INTAKE_UNAVAILABLE']);
    const missing = [...codes].filter((c) => !elsewhere.has(c) && !NOT_YET_DOCUMENTED_CODES.includes(c) && !text.includes(`"${c}"`));
    assert.deepEqual(missing, [], `codes missing from router-service/openapi/openapi.yaml: ${missing.join(', ')}`);
  });

  it('logging-service: every problem code of its catalogue is in its document', () => {
    const text = JSON.stringify(loadOpenApiDocument(LOGGING_OPENAPI_FILE));
    const source = readFileSync(join(ROOT, 'logging-service/src/errors.ts'), 'utf8');
    const codes = [...source.matchAll(/^\s+\w+: '([A-Z_]+)',$/gm)].map((m) => m[1]!);
    assert.ok(codes.length >= 8, codes.join(', '));
    assert.deepEqual(codes.filter((c) => !text.includes(`"${c}"`)), []);
  });

  describe('the response checker', () => {
    const checker = createResponseChecker(routerOpenApiDocument());
    const problem = (status: number, code: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ type: `https://github.com/communication-aggregator/docs/errors#${code.toLowerCase()}`, title: 't', status, code, ...extra });
    const id = '3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
    const accepted = JSON.stringify({ id, status: 'pending', traceId: '0af7651916cd43dd8448eb211c80319c', links: { self: `/v1/messages/${id}`, trace: null } });
    const json = { 'content-type': 'application/json; charset=utf-8', location: `/v1/messages/${id}` };

    it('accepts a response the document describes', () => {
      assert.deepEqual(checker.check({ method: 'POST', url: '/v1/messages', status: 202, headers: json, body: accepted }), []);
      assert.deepEqual(checker.check({ method: 'GET', url: `/v1/messages/${id}?x=1`, status: 404, headers: { 'content-type': 'application/problem+json' }, body: problem(404, 'MESSAGE_NOT_FOUND') }), []);
      assert.deepEqual(checker.check({ method: 'HEAD', url: '/health', status: 200, headers: json, body: '' }), []);
      assert.deepEqual(checker.check({ method: 'GET', url: '/nope', status: 404, headers: { 'content-type': 'application/problem+json' }, body: problem(404, 'NOT_FOUND') }), []);
    });

    it('refuses an undocumented status, path, code, content type, body or missing header', () => {
      const cases: Array<[string, Parameters<typeof checker.check>[0]]> = [
        ['status', { method: 'POST', url: '/v1/messages', status: 418, headers: json, body: accepted }],
        ['path', { method: 'GET', url: '/v1/nothing', status: 200, headers: json, body: '{}' }],
        ['method', { method: 'PUT', url: '/v1/messages', status: 200, headers: json, body: '{}' }],
        ['code', { method: 'GET', url: `/v1/messages/${id}`, status: 404, headers: { 'content-type': 'application/problem+json' }, body: problem(404, 'API_KEY_NOT_FOUND') }],
        ['content type', { method: 'POST', url: '/v1/messages', status: 202, headers: { ...json, 'content-type': 'text/plain' }, body: accepted }],
        ['body', { method: 'POST', url: '/v1/messages', status: 202, headers: json, body: JSON.stringify({ id, status: 'sent' }) }],
        ['extra field', { method: 'POST', url: '/v1/messages', status: 202, headers: json, body: accepted.replace('{', '{"extra":1,') }],
        ['header', { method: 'POST', url: '/v1/messages', status: 202, headers: { 'content-type': 'application/json' }, body: accepted }],
        ['header value', { method: 'GET', url: '/v1/keys', status: 401, headers: { 'content-type': 'application/problem+json', 'www-authenticate': 'Basic' }, body: problem(401, 'UNAUTHORIZED') }],
      ];
      for (const [what, sample] of cases) assert.notDeepEqual(checker.check(sample), [], `an undocumented ${what} passed`);
    });

    it('lists the operations and maps requests to them', () => {
      assert.equal(checker.operationFor('GET', `http://x/v1/messages/${id}`)?.operationId, 'getMessage');
      assert.equal(checker.operationFor('GET', '/docs')?.operationId, 'apiReference');
      assert.equal(checker.operationFor('GET', '/v1/other'), null);
      assert.ok(checker.operations().some((o) => o.internal && o.path === '/internal/v1/keys/introspect'));
    });
  });
});
