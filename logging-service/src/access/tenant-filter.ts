import type { LogView, SpanView, TraceView } from '../traces/trace-view';
import { TENANT_ATTRIBUTE, type Viewer } from './viewer';

/**
 * The merchant each span acts for: its own tenant attribute, else its parent's (a span inherits the
 * tenant of the request that caused it: pg, Kafka, delivery attempts and retries all descend from
 * the router's authenticated request span). A span with no tenant up its chain belongs to nobody
 * (an unauthenticated request): operators see it, merchants do not. A merchant that reuses another's
 * trace id gets spans labelled with its own tenant, so neither sees the other's half.
 */
export function spanTenants(spans: readonly SpanView[]): Map<string, string | null> {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const memo = new Map<string, string | null>();
  const resolve = (span: SpanView, depth: number): string | null => {
    const cached = memo.get(span.spanId);
    if (cached !== undefined) return cached;
    const own = span.attributes[TENANT_ATTRIBUTE];
    let tenant: string | null = typeof own === 'string' ? own : null;
    if (tenant === null && span.parentSpanId && depth < 1000) {
      const parent = byId.get(span.parentSpanId);
      tenant = parent ? resolve(parent, depth + 1) : null;
    }
    memo.set(span.spanId, tenant);
    return tenant;
  };
  for (const span of spans) resolve(span, 0);
  return memo;
}

/** The part of a trace the viewer may see; null when nothing (then the answer is 404, as for an unknown trace). */
export function traceFor(viewer: Viewer, trace: TraceView | null): TraceView | null {
  if (!trace || viewer.kind === 'operator') return trace;
  const tenants = spanTenants(trace.spans);
  const spans = trace.spans.filter((s) => tenants.get(s.spanId) === viewer.tenantId);
  if (spans.length === 0) return null;
  return { traceId: trace.traceId, services: [...new Set(spans.map((s) => s.service))].sort(), spans };
}

/** Log lines the viewer may see: those on spans of its own (within one trace). */
export function logsFor(viewer: Viewer, logs: LogView[], trace: TraceView | null): LogView[] {
  if (viewer.kind === 'operator') return logs;
  const visible = new Set(traceFor(viewer, trace)?.spans.map((s) => s.spanId) ?? []);
  return logs.filter((l) => l.spanId !== null && visible.has(l.spanId));
}
