/**
 * The one internal model both OTLP encodings decode into. Ids are lowercase hex, timestamps are
 * nanoseconds as bigint (int64 does not fit a JS number), attribute values are plain JSON values.
 */
export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };
export type Attributes = Record<string, AttributeValue>;

export const SPAN_KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const;
export type SpanKind = (typeof SPAN_KINDS)[number];

export const STATUS_CODES = ['unset', 'ok', 'error'] as const;
export type StatusCode = (typeof STATUS_CODES)[number];

export interface Scope {
  name: string;
  version: string;
}

export interface SpanEvent {
  timeNs: bigint;
  name: string;
  attributes: Attributes;
}

export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  traceState: string;
  name: string;
  kind: SpanKind;
  startNs: bigint;
  endNs: bigint;
  attributes: Attributes;
  events: SpanEvent[];
  links: Array<{ traceId: string; spanId: string }>;
  status: { code: StatusCode; message: string };
  resource: Attributes;
  scope: Scope;
}

export interface LogRecord {
  timeNs: bigint;
  observedNs: bigint;
  severityNumber: number;
  severityText: string;
  body: AttributeValue;
  attributes: Attributes;
  traceId: string | null;
  spanId: string | null;
  eventName: string;
  resource: Attributes;
  scope: Scope;
}

/** What one export request decoded to: accepted records plus the count and reason of rejected ones. */
export interface Decoded<T> {
  records: T[];
  rejected: number;
  rejectReasons: string[];
}
