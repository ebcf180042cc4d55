import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOpenApiDocument, type OpenApiDocument } from '@ca/http';
import { createResponseChecker, type ResponseChecker } from '@ca/testing';

/**
 * The Postman collection is checked against the OpenAPI documents (the source of truth): every
 * request names a documented operation of the service it calls, and every public operation has a
 * request. delivery-service has no merchant API (its /internal API is for the router); only its
 * probes are in the collection. Its receipt callbacks (/v1/receipts/twilio, /v1/receipts/sim) are
 * called by providers in the providers' formats; docs/webhooks.md describes them (README, API reference).
 */
const ROOT = join(__dirname, '../..');
const COLLECTION = join(ROOT, 'postman/communication-aggregator.postman_collection.json');

interface Item { name: string; item?: Item[]; request?: { method: string; url: { raw: string } | string } }

const sources: Record<string, OpenApiDocument> = {
  '{{routerUrl}}': loadOpenApiDocument(join(ROOT, 'router-service/openapi/openapi.yaml')),
  '{{loggingUrl}}': loadOpenApiDocument(join(ROOT, 'logging-service/openapi/openapi.yaml')),
};
const documents: Record<string, ResponseChecker> = Object.fromEntries(Object.entries(sources).map(([base, doc]) => [base, createResponseChecker(doc)]));
const UNDOCUMENTED = new Set(['{{deliveryUrl}}/health', '{{deliveryUrl}}/ready']);

function requests(items: Item[], folder = ''): Array<{ name: string; method: string; raw: string }> {
  return items.flatMap((i) => (i.item ? requests(i.item, `${folder}${i.name} / `)
    : [{ name: folder + i.name, method: i.request!.method, raw: typeof i.request!.url === 'string' ? i.request!.url : i.request!.url.raw }]));
}

/**
 * Operations with no request in the collection, by rule: an operation whose success is a
 * `text/event-stream` (a server-sent event stream stays open until the client leaves; newman waits
 * for a response to end, so it could only time out). Everything else public has a request.
 */
function streamsOnly(doc: OpenApiDocument): Set<string> {
  const out = new Set<string>();
  for (const [path, item] of Object.entries((doc as { paths?: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, unknown> }> }>> }).paths ?? {})) {
    for (const [method, op] of Object.entries(item)) {
      const ok = op.responses?.['200']?.content;
      if (ok && Object.keys(ok).every((type) => type === 'text/event-stream')) out.add(`${method.toUpperCase()} ${path}`);
    }
  }
  return out;
}
const EVENT_STREAMS = new Set([...Object.values(sources)].flatMap((doc) => [...streamsOnly(doc)]));

const all = requests((JSON.parse(readFileSync(COLLECTION, 'utf8')) as { item: Item[] }).item);

test('every request of the Postman collection is a documented operation', () => {
  assert.ok(all.length > 20);
  assert.deepEqual([...EVENT_STREAMS].sort(), ['GET /v1/campaigns/{id}/events', 'GET /v1/dashboard/events'], 'the only operations without a request: event streams');
  const unmapped = all.filter((r) => {
    if (UNDOCUMENTED.has(r.raw.split('?')[0]!)) return false;
    const base = Object.keys(documents).find((b) => r.raw.startsWith(b));
    if (!base) return true;
    // {{variables}} in the path stand for a path parameter's value.
    const path = r.raw.slice(base.length).split('?')[0]!.replace(/\{\{\w+\}\}/g, 'value');
    return documents[base]!.operationFor(r.method, path) === null;
  });
  assert.deepEqual(unmapped.map((r) => `${r.name}: ${r.method} ${r.raw}`), []);
});

test('every public operation of the OpenAPI documents has a request in the Postman collection', () => {
  for (const [base, checker] of Object.entries(documents)) {
    const covered = new Set(all.filter((r) => r.raw.startsWith(base))
      .map((r) => checker.operationFor(r.method, r.raw.slice(base.length).split('?')[0]!.replace(/\{\{\w+\}\}/g, 'value'))?.operationId));
    const missing = checker.operations().filter((op) => !op.internal && !covered.has(op.operationId) && !EVENT_STREAMS.has(`${op.method} ${op.path}`)).map((op) => `${op.method} ${op.path}`);
    assert.deepEqual(missing, [], `${base}: operations without a request in the collection`);
  }
});
