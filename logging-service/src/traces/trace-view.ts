/** The trace API's shapes, built from stored APM/ECS documents the same way for every store. */
export interface LogLine {
  time: string;
  level: string;
  message: string;
}

export interface SpanView {
  spanId: string;
  parentSpanId: string | null;
  service: string;
  name: string;
  kind: string;
  startTime: string;
  durationMs: number;
  status: 'ok' | 'error' | 'unset';
  attributes: Record<string, unknown>;
  logs: LogLine[];
}

export interface TraceView {
  traceId: string;
  services: string[];
  spans: SpanView[];
}

export interface LogView {
  time: string;
  level: string;
  message: string;
  service: string;
  traceId: string | null;
  spanId: string | null;
  attributes: Record<string, unknown>;
}

type Doc = Record<string, unknown>;

const get = (doc: Doc, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Doc)[k] : undefined), doc);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

function micros(doc: Doc): number {
  const us = get(doc, 'timestamp.us');
  return typeof us === 'number' ? us : Date.parse(text(doc['@timestamp'])) * 1000;
}

const isoFromMicros = (us: number): string => new Date(Math.floor(us / 1000)).toISOString();

/** The span a log or error document belongs to: span.id for logs, parent.id for APM errors. */
export function ownerSpanId(doc: Doc): string | null {
  const event = get(doc, 'processor.event');
  const id = event === 'error' ? get(doc, 'parent.id') ?? get(doc, 'span.id') : get(doc, 'span.id');
  return typeof id === 'string' ? id : null;
}

export function logLine(doc: Doc): LogLine {
  if (get(doc, 'processor.event') === 'error') {
    const ex = (get(doc, 'error.exception') as Doc[] | undefined)?.[0] ?? {};
    const message = [text(ex.type), text(ex.message)].filter(Boolean).join(': ') || text(doc.message);
    return { time: isoFromMicros(micros(doc)), level: 'error', message };
  }
  return { time: isoFromMicros(micros(doc)), level: text(get(doc, 'log.level')) || 'info', message: text(doc.message) };
}

/** Builds { traceId, services, spans } from transaction/span docs plus the trace's log/error docs. */
export function buildTraceView(traceId: string, spanDocs: Doc[], eventDocs: Doc[]): TraceView | null {
  if (spanDocs.length === 0) return null;
  const logsBySpan = new Map<string, Array<{ us: number; line: LogLine }>>();
  for (const doc of eventDocs) {
    const owner = ownerSpanId(doc);
    if (!owner) continue;
    const list = logsBySpan.get(owner) ?? [];
    list.push({ us: micros(doc), line: logLine(doc) });
    logsBySpan.set(owner, list);
  }
  const seen = new Set<string>();
  const spans = spanDocs
    .map((doc) => ({ doc, us: micros(doc) }))
    .sort((a, b) => a.us - b.us || Number(Boolean(get(a.doc, 'parent.id'))) - Number(Boolean(get(b.doc, 'parent.id'))))
    .flatMap(({ doc, us }): SpanView[] => {
      const isTxn = get(doc, 'processor.event') === 'transaction';
      const spanId = text(get(doc, isTxn ? 'transaction.id' : 'span.id'));
      if (!spanId || seen.has(spanId)) return [];
      seen.add(spanId);
      const durationUs = Number(get(doc, isTxn ? 'transaction.duration.us' : 'span.duration.us') ?? 0);
      const status = text(get(doc, 'otel.status.code'));
      return [{
        spanId,
        parentSpanId: text(get(doc, 'parent.id')) || null,
        service: text(get(doc, 'service.name')),
        name: text(get(doc, isTxn ? 'transaction.name' : 'span.name')),
        kind: text(get(doc, 'otel.kind')) || (isTxn ? 'SERVER' : 'INTERNAL'),
        startTime: isoFromMicros(us),
        durationMs: durationUs / 1000,
        status: status === 'ok' || status === 'error' ? status : 'unset',
        attributes: (get(doc, 'otel.attributes') as Record<string, unknown> | undefined) ?? {},
        logs: (logsBySpan.get(spanId) ?? []).sort((a, b) => a.us - b.us).map((l) => l.line),
      }];
    });
  return { traceId, services: [...new Set(spans.map((s) => s.service))].sort(), spans };
}

export function toLogView(doc: Doc): LogView {
  return {
    time: isoFromMicros(micros(doc)),
    level: text(get(doc, 'log.level')),
    message: text(doc.message),
    service: text(get(doc, 'service.name')),
    traceId: text(get(doc, 'trace.id')) || null,
    spanId: text(get(doc, 'span.id')) || null,
    attributes: (get(doc, 'otel.attributes') as Record<string, unknown> | undefined) ?? {},
  };
}
