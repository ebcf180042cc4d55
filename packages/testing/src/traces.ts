/** What logging-service's trace API (GET /v1/traces/:traceId) answers; each test types the spans it reads. */
export interface TraceView<S> {
  traceId: string;
  services: string[];
  spans: S[];
}

/**
 * One trace from logging-service, read with a key (a merchant's read key or the service token), or
 * null while it is not there (404) — spans arrive in export batches, so callers poll with waitFor.
 */
export async function readTrace<S>(loggingUrl: string, traceId: string, token: string): Promise<TraceView<S> | null> {
  const res = await fetch(`${loggingUrl}/v1/traces/${traceId}`, { headers: { authorization: `Bearer ${token}` } });
  return res.status === 200 ? ((await res.json()) as TraceView<S>) : null;
}

/**
 * Whole: every span's parent is in the trace, except the root's, which is the client's span. Spans
 * arrive in export batches (a parent often after its children), so a poll reads a trace only once it is whole.
 */
export function isWholeTrace(spans: ReadonlyArray<{ spanId: string; parentSpanId: string | null }>, clientSpanId: string): boolean {
  const ids = new Set(spans.map((s) => s.spanId));
  return spans.every((s) => !s.parentSpanId || s.parentSpanId === clientSpanId || ids.has(s.parentSpanId));
}
