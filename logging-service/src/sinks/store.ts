import type { StoredDoc } from '../translate/documents';
import type { LogView, TraceView } from '../traces/trace-view';

export interface LogQuery {
  traceId?: string;
  service?: string;
  level?: string;
  /** Case-insensitive substring of the message. */
  q?: string;
  limit: number;
}

/** Documents the store refused for good (a mapping conflict, say): reported, never retried. */
export interface WriteResult {
  rejected: number;
  reasons: string[];
}

/**
 * Where documents live: Elasticsearch, or PostgreSQL when ELASTICSEARCH_URL is unset. `write`
 * resolves only once every document is durably stored or permanently rejected; anything else
 * (timeouts, 429s, 5xx that outlast the retries) rejects with an HttpProblem carrying Retry-After,
 * so the OTLP sender keeps its batch.
 */
export interface Store {
  readonly kind: 'elasticsearch' | 'postgres';
  /** Installs index templates / applies migrations. */
  start(): Promise<void>;
  write(docs: readonly StoredDoc[]): Promise<WriteResult>;
  getTrace(traceId: string): Promise<TraceView | null>;
  searchLogs(query: LogQuery): Promise<LogView[]>;
  ready(): Promise<void>;
  close(): Promise<void>;
}
