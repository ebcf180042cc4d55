import { createDb, ensureDatabase, listMigrations, migrate, type Db } from '@ca/postgres';
import { SinkUnavailableError } from '../errors';
import type { StoredDoc } from '../translate/documents';
import { buildTraceView, ownerSpanId, toLogView, type TraceView } from '../traces/trace-view';
import { MIGRATIONS } from './postgres-migrations';
import type { LogQuery, Store, WriteResult } from './store';

export interface PostgresStoreOptions {
  url: string;
  schema: string;
  /** Seconds the sender is told to wait when a write fails. */
  retryAfterSeconds: number;
  pool?: { min: number; max: number };
  /** Told about a failed write (the text goes to the log, never to a client). */
  onError?: (err: unknown) => void;
}

/**
 * SQLSTATE classes that mean "this value cannot be stored" rather than "the store is down":
 * 22 data exception (NUL in text, bad jsonb escape, out of range), 23 integrity constraint,
 * 54 program limit exceeded (an index row too large). Anything else is an outage: 503, keep the batch.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}

/** Rows per INSERT: one statement per intake chunk (500 records → ~500–600 documents). */
const CHUNK = 1000;

type Doc = Record<string, unknown>;

function row(d: StoredDoc) {
  const doc = d.doc as Doc & { service?: { name?: string }; log?: { level?: string }; trace?: { id?: string }; timestamp?: { us?: number } };
  return {
    id: d.id,
    data_stream: d.index,
    kind: d.kind,
    trace_id: doc.trace?.id ?? null,
    span_id: d.kind === 'transaction' || d.kind === 'span' ? ((doc.span as Doc | undefined)?.id as string | undefined) ?? null : ownerSpanId(doc),
    service: doc.service?.name ?? 'unknown',
    level: doc.log?.level ? doc.log.level.toLowerCase() : d.kind === 'error' ? 'error' : null,
    message: typeof doc.message === 'string' ? doc.message : null,
    ts_us: doc.timestamp?.us ?? Date.parse(String(doc['@timestamp'])) * 1000,
    doc: d.doc,
  };
}

/** The embedded default: the same documents, kept in PostgreSQL (schema DATABASE_SCHEMA). */
export function createPostgresStore(opts: PostgresStoreOptions): Store & { db: Db } {
  const db = createDb({ url: opts.url, schema: opts.schema, pool: opts.pool });
  const table = () => db.withSchema(opts.schema).table('documents');
  // One statement per chunk, the rows as one jsonb array parameter: a single JSON.stringify here, a
  // single parse in PostgreSQL, and no thousands of bind parameters for knex and pg to build.
  const insertSql = `INSERT INTO ??.documents (id, data_stream, kind, trace_id, span_id, service, level, message, ts_us, doc)
    SELECT r->>'id', r->>'data_stream', r->>'kind', r->>'trace_id', r->>'span_id', r->>'service', r->>'level', r->>'message', (r->>'ts_us')::bigint, r->'doc'
    FROM jsonb_array_elements(?::jsonb) AS r
    ON CONFLICT (id) DO NOTHING`;
  const insert = (rows: Array<ReturnType<typeof row>>) => db.raw(insertSql, [opts.schema, JSON.stringify(rows)]);
  // The sender only learns that the store is unavailable; what PostgreSQL said goes to our log.
  const unavailable = (err: unknown) => {
    opts.onError?.(err);
    return new SinkUnavailableError(opts.retryAfterSeconds, 'PostgreSQL did not confirm the write');
  };
  return {
    kind: 'postgres',
    db,
    async start() {
      await ensureDatabase(opts.url);
      await migrate(db, opts.schema, listMigrations(MIGRATIONS));
    },
    async write(docs): Promise<WriteResult> {
      const result: WriteResult = { rejected: 0, reasons: [] };
      // Every row is idempotent (deterministic id, ON CONFLICT DO NOTHING), so chunks need no
      // shared transaction: a retried export re-inserts nothing that landed.
      for (let i = 0; i < docs.length; i += CHUNK) {
        const rows = docs.slice(i, i + CHUNK).map(row);
        try {
          await insert(rows);
        } catch (err) {
          if (!isDataError(err)) throw unavailable(err);
          // PostgreSQL refused a value, not the write: find the rows it refuses and reject only them.
          for (const r of rows) {
            try {
              await insert([r]);
            } catch (rowErr) {
              if (!isDataError(rowErr)) throw unavailable(rowErr);
              result.rejected += 1;
              const reason = `document refused by the store (SQLSTATE ${(rowErr as { code?: string }).code ?? '?'})`;
              if (!result.reasons.includes(reason)) result.reasons.push(reason);
            }
          }
        }
      }
      return result;
    },
    async getTrace(traceId): Promise<TraceView | null> {
      const rows: Array<{ kind: string; doc: Doc }> = await table().select('kind', 'doc').where({ trace_id: traceId }).orderBy('ts_us').limit(20_000);
      const spans = rows.filter((r) => r.kind === 'transaction' || r.kind === 'span').map((r) => r.doc);
      const events = rows.filter((r) => r.kind === 'log' || r.kind === 'error').map((r) => r.doc);
      return buildTraceView(traceId, spans, events);
    },
    async searchLogs(q: LogQuery) {
      const query = table().select('doc').where({ kind: 'log' });
      if (q.traceId) query.andWhere({ trace_id: q.traceId });
      if (q.service) query.andWhere({ service: q.service });
      if (q.level) query.andWhere({ level: q.level.toLowerCase() });
      if (q.q) query.andWhere('message', 'ilike', `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      const rows: Array<{ doc: Doc }> = await query.orderBy([{ column: 'ts_us', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(q.limit);
      return rows.map((r) => toLogView(r.doc));
    },
    async ready() {
      await db.raw('select 1');
    },
    async close() {
      await db.destroy();
    },
  };
}
