import { maskFreeText } from '@ca/contracts';
import { MalformedOtlpError } from '../errors';
import { SPAN_KINDS, type AttributeValue, type Attributes, type Decoded, type LogRecord, type Scope, type SpanKind, type SpanRecord, type StatusCode } from './model';

/**
 * Turns the plain object of an export request (from protobuf's toObject or from OTLP/JSON; both
 * use camelCase keys) into the internal model. The two encodings differ only in how bytes arrive:
 * protobuf gives Uint8Array, OTLP/JSON gives hex for trace/span ids and base64 for bytes values.
 * Structural nonsense (a list that is not a list) makes the whole request malformed; a record with
 * an invalid id is rejected alone and reported through partial_success.
 */
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

function list(parent: Obj, key: string, where: string): Obj[] {
  const v = parent[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new MalformedOtlpError(`${where}.${key} must be an array`);
  return v.map((item, i) => {
    if (!isObj(item)) throw new MalformedOtlpError(`${where}.${key}[${i}] must be an object`);
    return item;
  });
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
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

function nanos(v: unknown): bigint | null {
  if (v === undefined || v === null || v === '') return 0n;
  if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.trunc(v));
  if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v);
  return null;
}

function enumValue(v: unknown, names: readonly string[], prefix: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const idx = names.indexOf(v.replace(prefix, ''));
    if (idx >= 0) return idx;
    if (/^\d+$/.test(v)) return Number(v);
  }
  return 0;
}

/** int64 values stay exact: a number when safe, the decimal string otherwise. */
function int64(v: unknown): number | string {
  const n = typeof v === 'number' ? v : Number(v);
  if (Number.isSafeInteger(n)) return n;
  return String(v);
}

export function anyValue(v: unknown): AttributeValue {
  if (!isObj(v)) return null;
  if ('stringValue' in v) return maskFreeText(str(v.stringValue));
  if ('boolValue' in v) return v.boolValue === true;
  if ('intValue' in v) return int64(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('bytesValue' in v) {
    const b = v.bytesValue;
    return b instanceof Uint8Array ? Buffer.from(b).toString('base64') : str(b);
  }
  if ('arrayValue' in v) return isObj(v.arrayValue) ? list(v.arrayValue, 'values', 'arrayValue').map(anyValue) : [];
  if ('kvlistValue' in v) return isObj(v.kvlistValue) ? attributes(list(v.kvlistValue, 'values', 'kvlistValue')) : {};
  return null;
}

export function attributes(kvs: Obj[]): Attributes {
  const out: Attributes = {};
  for (const kv of kvs) {
    const key = str(kv.key);
    if (key) out[key] = anyValue(kv.value);
  }
  return out;
}

function scopeOf(parent: Obj): Scope {
  const s = isObj(parent.scope) ? parent.scope : {};
  return { name: str(s.name), version: str(s.version) };
}

function resourceOf(parent: Obj, where: string): Attributes {
  return isObj(parent.resource) ? attributes(list(parent.resource, 'attributes', `${where}.resource`)) : {};
}

const STATUS: readonly StatusCode[] = ['unset', 'ok', 'error'];
const SEVERITY_NAMES = ['UNSPECIFIED', ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((n) => [n, `${n}2`, `${n}3`, `${n}4`])];

export function normalizeTraces(body: unknown): Decoded<SpanRecord> {
  if (!isObj(body)) throw new MalformedOtlpError('the request body must be an ExportTraceServiceRequest object');
  const out: Decoded<SpanRecord> = { records: [], rejected: 0, rejectReasons: [] };
  const reject = (reason: string) => {
    out.rejected += 1;
    if (!out.rejectReasons.includes(reason)) out.rejectReasons.push(reason);
  };
  for (const rs of list(body, 'resourceSpans', 'request')) {
    const resource = resourceOf(rs, 'resourceSpans');
    for (const ss of list(rs, 'scopeSpans', 'resourceSpans')) {
      const scope = scopeOf(ss);
      for (const s of list(ss, 'spans', 'scopeSpans')) {
        const traceId = normalizeId(s.traceId, 16);
        const spanId = normalizeId(s.spanId, 8);
        const parent = normalizeId(s.parentSpanId, 8);
        const startNs = nanos(s.startTimeUnixNano);
        const endNs = nanos(s.endTimeUnixNano);
        if (!traceId || !spanId) { reject('invalid trace_id or span_id'); continue; }
        if (parent === null) { reject('invalid parent_span_id'); continue; }
        if (startNs === null || endNs === null || startNs === 0n) { reject('invalid start or end time'); continue; }
        const status = isObj(s.status) ? s.status : {};
        const kindIdx = enumValue(s.kind, SPAN_KINDS, 'SPAN_KIND_');
        out.records.push({
          traceId, spanId, parentSpanId: parent || null, traceState: str(s.traceState), name: str(s.name),
          kind: (SPAN_KINDS[kindIdx] ?? 'UNSPECIFIED') as SpanKind,
          startNs, endNs: endNs < startNs ? startNs : endNs,
          attributes: attributes(list(s, 'attributes', 'span')),
          events: list(s, 'events', 'span').map((e) => ({ timeNs: nanos(e.timeUnixNano) ?? startNs, name: str(e.name), attributes: attributes(list(e, 'attributes', 'event')) })),
          links: list(s, 'links', 'span').flatMap((l) => {
            const t = normalizeId(l.traceId, 16);
            const p = normalizeId(l.spanId, 8);
            return t && p ? [{ traceId: t, spanId: p }] : [];
          }),
          status: { code: STATUS[enumValue(status.code, ['UNSET', 'OK', 'ERROR'], 'STATUS_CODE_')] ?? 'unset', message: maskFreeText(str(status.message)) },
          resource, scope,
        });
      }
    }
  }
  return out;
}

export function normalizeLogs(body: unknown): Decoded<LogRecord> {
  if (!isObj(body)) throw new MalformedOtlpError('the request body must be an ExportLogsServiceRequest object');
  const out: Decoded<LogRecord> = { records: [], rejected: 0, rejectReasons: [] };
  const reject = (reason: string) => {
    out.rejected += 1;
    if (!out.rejectReasons.includes(reason)) out.rejectReasons.push(reason);
  };
  for (const rl of list(body, 'resourceLogs', 'request')) {
    const resource = resourceOf(rl, 'resourceLogs');
    for (const sl of list(rl, 'scopeLogs', 'resourceLogs')) {
      const scope = scopeOf(sl);
      for (const r of list(sl, 'logRecords', 'scopeLogs')) {
        const attrs = attributes(list(r, 'attributes', 'logRecord'));
        // winston's OpenTelemetry transport puts the ids on the record; older setups only had them
        // as trace_id/span_id attributes, so those are the fallback.
        const traceId = normalizeId(r.traceId, 16) || normalizeId(attrs.trace_id, 16) || '';
        const spanId = normalizeId(r.spanId, 8) || normalizeId(attrs.span_id, 8) || '';
        const timeNs = nanos(r.timeUnixNano);
        const observedNs = nanos(r.observedTimeUnixNano);
        if (normalizeId(r.traceId, 16) === null || normalizeId(r.spanId, 8) === null) { reject('invalid trace_id or span_id'); continue; }
        if (timeNs === null || observedNs === null || (timeNs === 0n && observedNs === 0n)) { reject('invalid or missing time'); continue; }
        out.records.push({
          timeNs: timeNs || observedNs, observedNs, severityNumber: enumValue(r.severityNumber, SEVERITY_NAMES, 'SEVERITY_NUMBER_'),
          severityText: str(r.severityText), body: anyValue(r.body), attributes: attrs,
          traceId: traceId || null, spanId: spanId || null, eventName: str(r.eventName), resource, scope,
        });
      }
    }
  }
  return out;
}
