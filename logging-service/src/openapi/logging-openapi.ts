import { resolve } from 'node:path';
import { loadOpenApiDocument, type OpenApiDocument } from '@ca/http';

/** logging-service/openapi/openapi.yaml: the same path from src/ (tsx) and dist/; the image copies it. */
export const LOGGING_OPENAPI_FILE = resolve(__dirname, '../../openapi/openapi.yaml');

let loaded: OpenApiDocument | null = null;

/** The parsed document, read once per process. */
export function loggingOpenApiDocument(): OpenApiDocument {
  loaded ??= loadOpenApiDocument(LOGGING_OPENAPI_FILE);
  return loaded;
}
