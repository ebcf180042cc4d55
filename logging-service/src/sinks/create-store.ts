import { resolve } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import type { Config } from '../config';
import { createElasticsearchStore } from './elasticsearch-store';
import { createPostgresStore } from './postgres-store';
import type { Store } from './store';

/**
 * logging-service/elasticsearch/index-templates: inside this package, so the image carries it. The
 * same relative path from src/sinks (tsx) and dist/sinks (compiled).
 */
export const TEMPLATES_DIR = resolve(__dirname, '../../elasticsearch/index-templates');

/** Elasticsearch when ELASTICSEARCH_URL is set, else the PostgreSQL store. */
export function createStore(config: Readonly<Config>, onError?: (err: unknown) => void): Store {
  const es = config.elasticsearch;
  if (!es.url) {
    return createPostgresStore({ url: config.databaseUrl, schema: config.databaseSchema, retryAfterSeconds: config.ingest.retryAfterSeconds, onError });
  }
  const auth = es.apiKey ? { apiKey: es.apiKey } : es.username && es.password ? { username: es.username, password: es.password } : undefined;
  const client = new Client({ node: es.url, ...(auth ? { auth } : {}), requestTimeout: es.requestTimeoutMs, maxRetries: 2 });
  return createElasticsearchStore({ client, templatesDir: TEMPLATES_DIR, bulk: es.bulk, retryAfterSeconds: config.ingest.retryAfterSeconds, onError });
}
