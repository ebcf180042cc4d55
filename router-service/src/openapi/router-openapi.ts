import { resolve } from 'node:path';
import { loadOpenApiDocument, type OpenApiDocument } from '@ca/http';

/**
 * router-service/openapi/openapi.yaml: the API's contract. The same path from src/ (tsx) and
 * dist/ (compiled); the image copies the folder next to dist/.
 */
export const ROUTER_OPENAPI_FILE = resolve(__dirname, '../../openapi/openapi.yaml');

let loaded: OpenApiDocument | null = null;

/** The parsed document, read once per process. */
export function routerOpenApiDocument(): OpenApiDocument {
  loaded ??= loadOpenApiDocument(ROUTER_OPENAPI_FILE);
  return loaded;
}
