import { HttpProblem } from '@ca/http';

/**
 * The closed set of errors logging-service answers with. Every one is an HttpProblem, so the
 * problem handler renders it as application/problem+json; OTLP protobuf callers get the same
 * status as a google.rpc.Status body (see otlp/otlp-response.ts).
 *
 *   code                 status  what the sender must do
 *   MALFORMED_OTLP       400     never retry: the body is not a valid OTLP export request
 *   PAYLOAD_TOO_LARGE    413     never retry as is: split the batch (INGEST_MAX_BODY_BYTES sent or
 *                                decoded, INGEST_MAX_RECORDS spans/log records)
 *   BODY_TIMEOUT         408     the body did not arrive within INGEST_BODY_TIMEOUT_MS; send faster
 *   UNSUPPORTED_MEDIA    415     never retry: send application/x-protobuf or application/json
 *   INGEST_BUSY          429     retry after Retry-After: too many exports in flight
 *   SINK_UNAVAILABLE     503     retry after Retry-After: the store did not confirm every document
 *   INVALID_QUERY        400     fix the query (trace id format, limit range)
 *   TRACE_NOT_FOUND      404     the trace id is unknown (or not ingested yet)
 */
export const ERROR_CODES = {
  malformed: 'MALFORMED_OTLP',
  tooLarge: 'PAYLOAD_TOO_LARGE',
  bodyTimeout: 'BODY_TIMEOUT',
  unsupportedMedia: 'UNSUPPORTED_MEDIA',
  busy: 'INGEST_BUSY',
  sinkUnavailable: 'SINK_UNAVAILABLE',
  invalidQuery: 'INVALID_QUERY',
  traceNotFound: 'TRACE_NOT_FOUND',
} as const;

export class MalformedOtlpError extends HttpProblem {
  constructor(detail: string) {
    super(400, ERROR_CODES.malformed, 'Malformed OTLP request', detail);
    this.name = 'MalformedOtlpError';
  }
}

export class PayloadTooLargeError extends HttpProblem {
  constructor(limitBytes: number, detail = `The request body, as sent or decoded, exceeds ${limitBytes} bytes`) {
    super(413, ERROR_CODES.tooLarge, 'Payload too large', detail);
    this.name = 'PayloadTooLargeError';
  }
}

/** The sender was too slow: the connection is closed after this answer. */
export class BodyTimeoutError extends HttpProblem {
  constructor(timeoutMs: number) {
    super(408, ERROR_CODES.bodyTimeout, 'Request body timeout', `The request body did not arrive within ${timeoutMs} ms`);
    this.name = 'BodyTimeoutError';
  }
}

export class UnsupportedMediaError extends HttpProblem {
  constructor(what: string) {
    super(415, ERROR_CODES.unsupportedMedia, 'Unsupported media type', what);
    this.name = 'UnsupportedMediaError';
  }
}

/** Rate-limited: the sender keeps the batch and retries after `retryAfterSeconds`. */
export class IngestBusyError extends HttpProblem {
  constructor(readonly retryAfterSeconds: number, detail = 'Too many export requests are in flight') {
    super(429, ERROR_CODES.busy, 'Ingest busy', detail, {}, { 'retry-after': String(retryAfterSeconds) });
    this.name = 'IngestBusyError';
  }
}

/** Transient: the store did not confirm every document; nothing is acknowledged. */
export class SinkUnavailableError extends HttpProblem {
  constructor(readonly retryAfterSeconds: number, detail: string) {
    super(503, ERROR_CODES.sinkUnavailable, 'Store unavailable', detail, {}, { 'retry-after': String(retryAfterSeconds) });
    this.name = 'SinkUnavailableError';
  }
}

export class InvalidQueryError extends HttpProblem {
  constructor(detail: string, errors: Array<{ field: string; message: string }> = []) {
    super(400, ERROR_CODES.invalidQuery, 'Invalid query', detail, errors.length ? { errors } : {});
    this.name = 'InvalidQueryError';
  }
}

export class TraceNotFoundError extends HttpProblem {
  constructor(traceId: string) {
    super(404, ERROR_CODES.traceNotFound, 'Trace not found', `No spans are stored for trace ${traceId}`);
    this.name = 'TraceNotFoundError';
  }
}
