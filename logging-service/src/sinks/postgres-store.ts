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
}

const CHUNK = 500;

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
    doc: JSON.stringify(d.doc),
  };
}

/** The embedded default: the same documents, kept in PostgreSQL (schema DATABASE_SCHEMA). */
export function createPostgresStore(opts: PostgresStoreOptions): Store & { db: Db } {
  const db = createDb({ url: opts.url, schema: opts.schema, pool: opts.pool });
  const table = () => db.withSchema(opts.schema).table('documents');
  return {
    kind: 'postgres',
    db,
    async start() {
      await ensureDatabase(opts.url);
      await migrate(db, opts.schema, listMigrations(MIGRATIONS));
    },
    async write(docs): Promise<WriteResult> {
      if (docs.length === 0) return { rejected: 0, reasons: [] };
      try {
        // One transaction: the export is either entirely stored or not at all.
        await db.transaction(async (trx) => {
          for (let i = 0; i < docs.length; i += CHUNK) {
            await trx.withSchema(opts.schema).table('documents').insert(docs.slice(i, i + CHUNK).map(row)).onConflict('id').ignore();
          }
        });
      } catch (err) {
        throw new SinkUnavailableError(opts.retryAfterSeconds, `PostgreSQL write failed: ${(err as Error).message}`);
      }
      return { rejected: 0, reasons: [] };
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
