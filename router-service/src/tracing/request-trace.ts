import { randomBytes } from 'node:crypto';
import { trace, TraceFlags } from '@opentelemetry/api';
import type { RequestHandler, Response } from 'express';
import { HTTP_HEADERS } from '@ca/contracts';
import { activeTraceId } from '@ca/telemetry';

export interface RequestTrace {
  traceId: string;
  spanId: string;
}

/**
 * Records the request's trace identity once, at the first middleware, where the active span is the
 * HTTP server span (the client's traceparent, if any, is already honoured by the http
 * instrumentation), and answers it in a W3C Trace Context level 2 `traceresponse` header so a
 * client can find its trace even when it sent none. Without an SDK the ids are random but
 * well-formed, so the id in the response still travels on to Kafka.
 */
export function requestTrace(): RequestHandler {
  return (_req, res, next) => {
    const sc = trace.getActiveSpan()?.spanContext();
    const valid = sc !== undefined && trace.isSpanContextValid(sc);
    const t: RequestTrace = valid ? { traceId: sc.traceId, spanId: sc.spanId } : { traceId: activeTraceId(), spanId: randomBytes(8).toString('hex') };
    const sampled = valid ? (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED : true;
    res.locals.trace = t;
    res.setHeader(HTTP_HEADERS.traceresponse, `00-${t.traceId}-${t.spanId}-${sampled ? '01' : '00'}`);
    next();
  };
}

export function traceOf(res: Response): RequestTrace {
  return res.locals.trace as RequestTrace;
}
