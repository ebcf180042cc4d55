import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Router } from 'express';
import { parse } from 'yaml';
import { notFound } from './problem';

/** An OpenAPI document as parsed JSON (only the fields this module reads are typed). */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, unknown>;
  [field: string]: unknown;
}

/**
 * Reads a service's OpenAPI YAML (the source of truth, shipped inside the service's own folder and
 * image) once at start. A document that is not OpenAPI 3.1 fails the start, not a later request.
 */
export function loadOpenApiDocument(file: string): OpenApiDocument {
  const doc = parse(readFileSync(file, 'utf8')) as Partial<OpenApiDocument> | null;
  if (!doc || typeof doc.openapi !== 'string' || !doc.openapi.startsWith('3.1.') || !doc.paths || !doc.info) {
    throw new Error(`${file} is not an OpenAPI 3.1 document`);
  }
  return doc as OpenApiDocument;
}

/**
 * The reference page loads only this origin's own files: no inline script or style (the page is
 * started by docs.js; Swagger UI sets styles through the DOM, which CSP allows), no CDN, no framing;
 * icons are data: SVG. Checked in headless Chromium: no CSP report while browsing the page.
 */
export const DOCS_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SWAGGER_UI_DIR = dirname(require.resolve('swagger-ui-dist/package.json'));
const SWAGGER_FILES = {
  'swagger-ui-bundle.js': 'text/javascript',
  'swagger-ui.css': 'text/css',
  'favicon-32x32.png': 'image/png',
} as const;

// No "Try it out" against other servers, no validator badge calling out to the internet.
const DOCS_JS = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#api-reference',
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: false,
    tryItOutEnabled: false,
  });
});
`;
const DOCS_CSS = 'body { margin: 0; } .swagger-ui .topbar { display: none; }\n';

function docsPage(title: string): string {
  const safe = title.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${safe} — API reference</title>
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="stylesheet" href="/docs/docs.css">
</head>
<body>
<div id="api-reference"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/docs.js"></script>
</body>
</html>
`;
}

/**
 * GET /openapi.json (the document as JSON) and GET /docs (Swagger UI rendering it), with the page's
 * assets served from node_modules/swagger-ui-dist. Mount before authentication: the contract is
 * public; the API it describes is not.
 */
export function apiReferenceRouter(document: OpenApiDocument): Router {
  const router = Router();
  const json = JSON.stringify(document);
  const page = docsPage(document.info.title);
  const assets = new Map<string, { type: string; body: Buffer | string }>([
    ['docs.js', { type: 'text/javascript', body: DOCS_JS }],
    ['docs.css', { type: 'text/css', body: DOCS_CSS }],
  ]);
  for (const [name, type] of Object.entries(SWAGGER_FILES)) {
    assets.set(name, { type, body: readFileSync(join(SWAGGER_UI_DIR, name)) });
  }

  router.get('/openapi.json', (_req, res) => {
    res.setHeader('cache-control', 'no-cache');
    res.type('application/json').send(json);
  });
  router.get('/docs', (_req, res) => {
    res.setHeader('content-security-policy', DOCS_CSP);
    res.setHeader('cache-control', 'no-cache');
    res.type('html').send(page);
  });
  router.get('/docs/:asset', (req, res, next) => {
    const asset = assets.get(String(req.params.asset));
    if (!asset) return next(notFound(`/docs/${String(req.params.asset).slice(0, 100)}`));
    res.setHeader('cache-control', 'public, max-age=3600');
    res.type(asset.type).send(asset.body);
  });
  return router;
}
