import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Doc = Record<string, unknown>;

export interface BulkItem {
  index: string;
  id: string;
  doc: Doc;
}

/** What the fake answers for one _bulk call: per-item statuses (undefined = normal) or a whole-request status. */
export type BulkScript = (call: number, items: BulkItem[]) => { status?: number; itemStatus?: Array<number | undefined>; delay?: Promise<void> };

/**
 * A recording Elasticsearch on port 0: index templates, _bulk with `create` semantics (409 for an
 * existing _id), _search by trace.id, cluster health. Enough for the client and its bulk helper.
 */
export async function startFakeElasticsearch(script: BulkScript = () => ({})) {
  const templates = new Map<string, Doc>();
  const docs = new Map<string, BulkItem>();
  const bulkCalls: BulkItem[][] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
      res.end(JSON.stringify(payload));
    };
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/_index_template/')) {
      templates.set(decodeURIComponent(url.pathname.split('/')[2]!), JSON.parse(body) as Doc);
      return send(200, { acknowledged: true });
    }
    if (url.pathname === '/_cluster/health') return send(200, { status: 'green' });
    if (url.pathname === '/_bulk') {
      const lines = body.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Doc);
      const items: BulkItem[] = [];
      for (let i = 0; i < lines.length; i += 2) {
        const action = lines[i]!.create as { _index: string; _id: string };
        items.push({ index: action._index, id: action._id, doc: lines[i + 1]! });
      }
      bulkCalls.push(items);
      const plan = script(bulkCalls.length, items);
      if (plan.delay) await plan.delay;
      if (plan.status) return send(plan.status, { error: { type: 'es_rejected_execution_exception', reason: 'scripted' }, status: plan.status });
      const results = items.map((item, i) => {
        const forced = plan.itemStatus?.[i];
        if (forced) return { create: { _index: item.index, _id: item.id, status: forced, error: { type: forced === 400 ? 'mapper_parsing_exception' : forced === 429 ? 'es_rejected_execution_exception' : 'unavailable_shards_exception', reason: 'scripted' } } };
        if (docs.has(item.id)) return { create: { _index: item.index, _id: item.id, status: 409, error: { type: 'version_conflict_engine_exception', reason: 'exists' } } };
        docs.set(item.id, item);
        return { create: { _index: item.index, _id: item.id, status: 201, result: 'created' } };
      });
      return send(200, { took: 1, errors: results.some((r) => r.create.status >= 300), items: results });
    }
    if (url.pathname.endsWith('/_search')) {
      const patterns = decodeURIComponent(url.pathname.split('/')[1]!).split(',');
      const query = JSON.parse(body || '{}') as { query?: { bool?: { filter?: Doc[] } } };
      const traceTerm = query.query?.bool?.filter?.find((f) => (f.term as Doc | undefined)?.['trace.id']);
      const traceId = (traceTerm?.term as Doc | undefined)?.['trace.id'];
      const hits = [...docs.values()]
        .filter((d) => patterns.some((p) => d.index.startsWith(p.replace('*', ''))))
        .filter((d) => !traceId || (d.doc.trace as Doc | undefined)?.id === traceId)
        .map((d) => ({ _index: d.index, _id: d.id, _source: d.doc }));
      return send(200, { took: 1, timed_out: false, hits: { total: { value: hits.length, relation: 'eq' }, hits } });
    }
    send(404, { error: `no route ${req.method} ${url.pathname}` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    templates, docs, bulkCalls,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
