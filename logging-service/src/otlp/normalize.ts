import { MalformedOtlpError } from '../errors';
import { SPAN_KINDS, type AttributeValue, type Attributes, type LogRecord, type Scope, type SpanKind, type SpanRecord, type StatusCode } from './model';
import { storedText } from './stored-text';

/**
 * Turns the plain objects of an export request (from protobuf's toObject or from OTLP/JSON; both
 * use camelCase keys) into the internal model, one record at a time. The two encodings differ only
 * in how bytes arrive: protobuf gives Uint8Array, OTLP/JSON gives hex for trace/span ids and base64
 * for bytes values. Structural nonsense (a list that is not a list) makes the whole request
 * malformed; a record that cannot be kept (invalid id, time out of range, a value nested too deep)
 * throws RejectedRecord and is reported alone through partial_success.
 */
export type Obj = Record<string, unknown>;

/** One record refused; `message` is the reason sent back in partial_success.error_message. */
export class RejectedRecord extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RejectedRecord';
  }
}

/** AnyValue arrays/maps nested deeper than this reject their record (no real attribute needs it). */
export const MAX_VALUE_DEPTH = 32;

/**
 * Accepted timestamps: [2000-01-01T00:00:00Z, 2100-01-01T00:00:00Z). Outside it a record is
 * rejected: `1e30` ns or a negative time is a broken clock or a hostile sender, and keeping it would
 * break date fields downstream (JavaScript dates, Elasticsearch date math).
 */
export const TIME_RANGE_NS = { min: 946_684_800_000_000_000n, max: 4_102_444_800_000_000_000n } as const;
const TIME_REASON = 'time outside 2000-01-01..2100-01-01';

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

export function list(parent: Obj, key: string, where: string): Obj[] {
  const v = parent[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new MalformedOtlpError(`${where}.${key} must be an array`);
  for (let i = 0; i < v.length; i += 1) {
    if (!isObj(v[i])) throw new MalformedOtlpError(`${where}.${key}[${i}] must be an object`);
  }
  return v as Obj[];
}

/** An own property even for '__proto__', which a plain assignment would turn into a prototype change. */
function setOwn(target: Record<string, AttributeValue>, key: string, value: AttributeValue): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Lowercase hex of an id, '' when absent, null when present but not `bytes` long or all zeros. */
export function normalizeId(v: unknown, bytes: number): string | null | '' {
  let hex: string;
  if (v === undefined || v === null || v === '') return '';
  if (v instanceof Uint8Array) {
    if (v.length === 0) return '';
    hex = Buffer.from(v).toString('hex');
  } else if (typeof v === 'string') {
    hex = v.toLowerCase();
  } else {
    return null;
  }
  if (hex.length !== bytes * 2 || !/^[0-9a-f]+$/.test(hex) || /^0+$/.test(hex)) return null;
  return hex;
}

/** Nanoseconds: 0n when absent, null when not an integer. */
function nanos(v: unknown): bigint | null {
  if (v === undefined || v === null || v === '') return 0n;
  if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.trunc(v));
  if (typeof v === 'string' && /^\d{1,30}$/.test(v)) return BigInt(v);
  return null;
}

/** A present timestamp inside TIME_RANGE_NS; 0n when absent; otherwise the record is rejected. */
function time(v: unknown): bigint {
  const ns = nanos(v);
  if (ns === null) throw new RejectedRecord('invalid time');
  if (ns !== 0n && (ns < TIME_RANGE_NS.min || ns >= TIME_RANGE_NS.max)) throw new RejectedRecord(TIME_REASON);
  return ns;
}

function enumValue(v: unknown, names: readonly string[], prefix: string): number {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : 0;
  if (typeof v === 'string') {
    const idx = names.indexOf(v.replace(prefix, ''));
    if (idx >= 0) return idx;
    if (/^\d{1,9}$/.test(v)) return Number(v);
  }
  return 0;
}

/** int64 values stay exact: a number when safe, the decimal string otherwise. */
function int64(v: unknown): number | string {
  const n = typeof v === 'number' ? v : Number(v);
  if (Number.isSafeInteger(n)) return n;
  return typeof v === 'string' && /^-?\d{1,20}$/.test(v) ? v : Number.isFinite(n) ? n : 0;
}

function scalar(v: Obj): AttributeValue {
  if ('stringValue' in v) return storedText(v.stringValue);
  if ('boolValue' in v) return v.boolValue === true;
  if ('intValue' in v) return int64(v.intValue);
  if ('doubleValue' in v) {
    const d = Number(v.doubleValue);
    return Number.isFinite(d) ? d : null; // NaN/Infinity have no JSON form
  }
  if ('bytesValue' in v) {
    const b = v.bytesValue;
    return b instanceof Uint8Array ? Buffer.from(b).toString('base64') : storedText(b);
  }
  return null;
}

interface Frame {
  depth: number;
  items: Obj[];
  next: number;
  array: AttributeValue[] | null;
  map: Record<string, AttributeValue> | null;
}

/** A scalar, or an empty container whose children are filled later from `stack`. */
function open(v: unknown, depth: number, stack: Frame[]): AttributeValue {
  if (!isObj(v)) return null;
  const isArray = 'arrayValue' in v;
  if (!isArray && !('kvlistValue' in v)) return scalar(v);
  if (depth >= MAX_VALUE_DEPTH) throw new RejectedRecord(`attribute value nested deeper than ${MAX_VALUE_DEPTH} levels`);
  const inner = isArray ? v.arrayValue : v.kvlistValue;
  const items = isObj(inner) ? list(inner, 'values', isArray ? 'arrayValue' : 'kvlistValue') : [];
  const array: AttributeValue[] | null = isArray ? [] : null;
  const map: Record<string, AttributeValue> | null = isArray ? null : {};
  if (items.length) stack.push({ depth: depth + 1, items, next: 0, array, map });
  return array ?? map;
}

/** AnyValue → JSON value, walked with an explicit stack: no recursion, so no stack overflow. */
export function anyValue(v: unknown): AttributeValue {
  const stack: Frame[] = [];
  const root = open(v, 0, stack);
  while (stack.length) {
    const f = stack[stack.length - 1]!;
    if (f.next >= f.items.length) {
      stack.pop();
      continue;
    }
    const item = f.items[f.next]!;
    f.next += 1;
    if (f.array) f.array.push(open(item, f.depth, stack));
    else {
      const key = storedText(item.key);
      const value = open(item.value, f.depth, stack);
      if (key) setOwn(f.map!, key, value);
    }
  }
  return root;
}

export function attributes(kvs: Obj[]): Attributes {
  const out: Attributes = {};
  for (const kv of kvs) {
    const key = storedText(kv.key);
    if (key) setOwn(out, key, anyValue(kv.value));
  }
  return out;
}

export function scopeOf(parent: Obj): Scope {
  const s = isObj(parent.scope) ? parent.scope : {};
  return { name: storedText(s.name), version: storedText(s.version) };
}

export function resourceOf(parent: Obj, where: string): Attributes {
  return isObj(parent.resource) ? attributes(list(parent.resource, 'attributes', `${where}.resource`)) : {};
}

const STATUS: readonly StatusCode[] = ['unset', 'ok', 'error'];
const SEVERITY_NAMES = ['UNSPECIFIED', ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((n) => [n, `${n}2`, `${n}3`, `${n}4`])];

/** One span; throws RejectedRecord when it cannot be kept. */
export function normalizeSpan(s: Obj, resource: Attributes, scope: Scope): SpanRecord {
  const traceId = normalizeId(s.traceId, 16);
  const spanId = normalizeId(s.spanId, 8);
  const parent = normalizeId(s.parentSpanId, 8);
  if (!traceId || !spanId) throw new RejectedRecord('invalid trace_id or span_id');
  if (parent === null) throw new RejectedRecord('invalid parent_span_id');
  const startNs = time(s.startTimeUnixNano);
  const endNs = time(s.endTimeUnixNano);
  if (startNs === 0n) throw new RejectedRecord('invalid start or end time');
  const status = isObj(s.status) ? s.status : {};
  const kindIdx = enumValue(s.kind, SPAN_KINDS, 'SPAN_KIND_');
  return {
    traceId, spanId, parentSpanId: parent || null, traceState: storedText(s.traceState), name: storedText(s.name),
    kind: (SPAN_KINDS[kindIdx] ?? 'UNSPECIFIED') as SpanKind,
    startNs, endNs: endNs < startNs ? startNs : endNs,
    attributes: attributes(list(s, 'attributes', 'span')),
    events: list(s, 'events', 'span').map((e) => ({ timeNs: time(e.timeUnixNano) || startNs, name: storedText(e.name), attributes: attributes(list(e, 'attributes', 'event')) })),
    links: list(s, 'links', 'span').flatMap((l) => {
      const t = normalizeId(l.traceId, 16);
      const p = normalizeId(l.spanId, 8);
      return t && p ? [{ traceId: t, spanId: p }] : [];
    }),
    status: { code: STATUS[enumValue(status.code, ['UNSET', 'OK', 'ERROR'], 'STATUS_CODE_')] ?? 'unset', message: storedText(status.message) },
    resource, scope,
  };
}

/** One log record; throws RejectedRecord when it cannot be kept. */
export function normalizeLog(r: Obj, resource: Attributes, scope: Scope): LogRecord {
  if (normalizeId(r.traceId, 16) === null || normalizeId(r.spanId, 8) === null) throw new RejectedRecord('invalid trace_id or span_id');
  const timeNs = time(r.timeUnixNano);
  const observedNs = time(r.observedTimeUnixNano);
  if (timeNs === 0n && observedNs === 0n) throw new RejectedRecord('invalid or missing time');
  const attrs = attributes(list(r, 'attributes', 'logRecord'));
  // winston's OpenTelemetry transport puts the ids on the record; older setups only had them
  // as trace_id/span_id attributes, so those are the fallback.
  const traceId = normalizeId(r.traceId, 16) || normalizeId(attrs.trace_id, 16) || '';
  const spanId = normalizeId(r.spanId, 8) || normalizeId(attrs.span_id, 8) || '';
  return {
    timeNs: timeNs || observedNs, observedNs, severityNumber: enumValue(r.severityNumber, SEVERITY_NAMES, 'SEVERITY_NUMBER_'),
    severityText: storedText(r.severityText), body: anyValue(r.body), attributes: attrs,
    traceId: traceId || null, spanId: spanId || null, eventName: storedText(r.eventName), resource, scope,
  };
}
