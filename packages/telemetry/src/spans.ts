import { context, propagation, trace, SpanStatusCode, type Attributes, type Context, type Span, type SpanKind } from '@opentelemetry/api';
import { randomBytes } from 'node:crypto';
import { suppressTracing } from '@opentelemetry/core';

export const tracer = trace.getTracer('communication-aggregator');

/** Runs fn inside a new active span; records an exception and error status if fn throws. */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  opts: { kind?: SpanKind; parent?: Context } = {},
): Promise<T> {
  const parent = opts.parent ?? context.active();
  return tracer.startActiveSpan(name, { attributes, kind: opts.kind }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** W3C trace context of the active span, as headers (traceparent, tracestate; never baggage: see startTelemetry). */
export function currentTraceHeaders(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/**
 * Runs fn with tracing suppressed: auto-instrumentation (http, pg, …) records no span inside it. For
 * a call whose own span already says what it did and whose URL must not be recorded whole.
 */
export function withoutAutoSpans<T>(fn: () => T): T {
  return context.with(suppressTracing(context.active()), fn);
}

export function contextFromHeaders(headers: Record<string, string | undefined>): Context {
  return propagation.extract(context.active(), headers);
}

/** The active trace id; a fresh random one when tracing is off (ids stay unique and well-formed). */
export function activeTraceId(): string {
  const sc = trace.getActiveSpan()?.spanContext();
  if (sc && trace.isSpanContextValid(sc)) return sc.traceId;
  return randomBytes(16).toString('hex');
}

/** A traceparent for a trace id when no SDK is running, so the id still travels to the next hop. */
export function syntheticTraceparent(traceId: string): string {
  return `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
}
