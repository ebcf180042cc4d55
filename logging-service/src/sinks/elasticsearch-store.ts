import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleepMs } from 'node:timers/promises';
import type { Client } from '@elastic/elasticsearch';
import { IngestBusyError, SinkUnavailableError } from '../errors';
import type { StoredDoc } from '../translate/documents';
import { buildTraceView, toLogView } from '../traces/trace-view';
import type { LogQuery, Store, WriteResult } from './store';

export interface BulkTuning {
  /** Serialized bytes per _bulk request (helper flushBytes). */
  flushBytes: number;
  /** Concurrent _bulk requests per write. */
  concurrency: number;
  /** Helper retries of documents ES answered 429 for, and the wait between them (ms). */
  retries: number;
  waitMs: number;
  /** Whole passes over the documents still unconfirmed (after 429s, 5xx, failed requests). */
  maxAttempts: number;
}

export interface ElasticsearchStoreOptions {
  client: Client;
  /** Folder of index template JSON files (logging-service/elasticsearch/index-templates). */
  templatesDir: string;
  bulk: BulkTuning;
  retryAfterSeconds: number;
  sleep?: (ms: number) => Promise<void>;
  /** Told why a write failed (the text goes to the log, never to a client). */
  onError?: (err: unknown) => void;
}

type Doc = Record<string, unknown>;

const SPAN_INDICES = 'traces-apm*';
const EVENT_INDICES = 'logs-apm*';
const APP_LOG_INDICES = 'logs-apm.app.*';

/**
 * Writes through the official client's bulk helper with `create` and deterministic _ids: a
 * document ES already holds answers 409, which counts as stored, so retrying a whole export never
 * duplicates. Per document: 409 → stored; 429 or 5xx → retried (the helper retries 429 itself,
 * then further passes with backoff); other 4xx → permanently rejected and reported through
 * partial_success. If anything is still unconfirmed after maxAttempts, write() throws and the
 * sender is told 429/503 + Retry-After. Memory stays bounded: the helper serializes flushBytes
 * at a time, and the ingest gate bounds how many exports are in flight.
 */
export function createElasticsearchStore(opts: ElasticsearchStoreOptions): Store {
  const { client, bulk } = opts;
  const sleep = opts.sleep ?? ((ms: number) => sleepMs(ms).then(() => undefined));

  async function bulkPass(pending: StoredDoc[], result: WriteResult): Promise<{ retry: StoredDoc[]; busy: boolean; error: string }> {
    const byId = new Map(pending.map((d) => [d.id, d]));
    const retry: StoredDoc[] = [];
    let busy = false;
    let error = '';
    try {
      await client.helpers.bulk<StoredDoc>({
        datasource: pending,
        onDocument: (d) => [{ create: { _index: d.index, _id: d.id } }, d.doc],
        flushBytes: bulk.flushBytes,
        concurrency: bulk.concurrency,
        retries: bulk.retries,
        wait: bulk.waitMs,
        onDrop: (drop) => {
          const op = (Array.isArray(drop.operation) ? drop.operation[0] : drop.operation) as { create?: { _id?: string } };
          const doc = byId.get(op.create?._id ?? '');
          if (drop.status === 409 || !doc) return; // already stored by an earlier attempt
          if (drop.status === 429 || drop.status >= 500) {
            busy ||= drop.status === 429;
            error = `${drop.status} ${drop.error?.type ?? ''}`.trim();
            retry.push(doc);
            return;
          }
          result.rejected += 1;
          // The error type only: ES's reason text quotes our mapping and the document.
          const reason = `document refused by the store (${String(drop.error?.type ?? `status ${drop.status}`).slice(0, 80)})`;
          if (!result.reasons.includes(reason) && result.reasons.length < 5) result.reasons.push(reason);
        },
      });
      return { retry, busy, error };
    } catch (err) {
      // The _bulk request itself failed (connection, timeout, 429/5xx on the request): which
      // documents landed is unknown, so all of them go again; stored ones will answer 409.
      const status = (err as { meta?: { statusCode?: number } }).meta?.statusCode;
      return { retry: pending, busy: status === 429, error: (err as Error).message };
    }
  }

  return {
    kind: 'elasticsearch',
    async start() {
      const files = (await readdir(opts.templatesDir)).filter((f) => f.endsWith('.json')).sort();
      for (const file of files) {
        const body = JSON.parse(await readFile(join(opts.templatesDir, file), 'utf8')) as Doc;
        await client.indices.putIndexTemplate({ name: file.replace(/\.json$/, ''), ...body });
      }
    },
    async write(docs) {
      const result: WriteResult = { rejected: 0, reasons: [] };
      let pending = [...docs];
      let busy = false;
      let error = '';
      for (let attempt = 1; attempt <= bulk.maxAttempts && pending.length > 0; attempt += 1) {
        if (attempt > 1) await sleep(bulk.waitMs * 2 ** (attempt - 2));
        ({ retry: pending, busy, error } = await bulkPass(pending, result));
      }
      if (pending.length > 0) {
        opts.onError?.(new Error(`Elasticsearch did not confirm ${pending.length} of ${docs.length} documents: ${error}`));
        const detail = `Elasticsearch did not confirm ${pending.length} of ${docs.length} documents`;
        throw busy ? new IngestBusyError(opts.retryAfterSeconds, detail) : new SinkUnavailableError(opts.retryAfterSeconds, detail);
      }
      return result;
    },
    async getTrace(traceId) {
      const common = { ignore_unavailable: true, allow_no_indices: true, size: 10_000, sort: [{ 'timestamp.us': { order: 'asc' as const, unmapped_type: 'long' } }] };
      const [spans, events] = await Promise.all([
        client.search<Doc>({ index: SPAN_INDICES, ...common, query: { bool: { filter: [{ term: { 'trace.id': traceId } }, { terms: { 'processor.event': ['transaction', 'span'] } }] } } }),
        client.search<Doc>({ index: EVENT_INDICES, ...common, query: { bool: { filter: [{ term: { 'trace.id': traceId } }] } } }),
      ]);
      const docs = (r: typeof spans) => r.hits.hits.flatMap((h) => (h._source ? [h._source] : []));
      return buildTraceView(traceId, docs(spans), docs(events));
    },
    async searchLogs(q: LogQuery) {
      const filter: Doc[] = [{ term: { 'processor.event': 'log' } }];
      if (q.traceId) filter.push({ term: { 'trace.id': q.traceId } });
      if (q.service) filter.push({ term: { 'service.name': q.service } });
      if (q.level) filter.push({ term: { 'log.level': { value: q.level, case_insensitive: true } } });
      const must: Doc[] = q.q ? [{ match_phrase: { message: q.q } }] : [];
      const r = await client.search<Doc>({
        index: APP_LOG_INDICES, ignore_unavailable: true, allow_no_indices: true, size: q.limit,
        sort: [{ '@timestamp': { order: 'desc' } }], query: { bool: { filter, must } },
      });
      return r.hits.hits.flatMap((h) => (h._source ? [toLogView(h._source)] : []));
    },
    async ready() {
      await client.cluster.health({ timeout: '2s' });
    },
    async close() {
      await client.close();
    },
  };
}
