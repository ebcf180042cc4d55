import protobuf from 'protobufjs';
import { MalformedOtlpError } from '../errors';
import type { Attributes, Decoded, LogRecord, Scope, SpanRecord } from './model';
import { attributes, isObj, list, normalizeLog, normalizeSpan, RejectedRecord, resourceOf, scopeOf, type Obj } from './normalize';
import { OTLP_TYPES, TO_OBJECT_OPTIONS } from './otlp-proto';

export type OtlpFormat = 'protobuf' | 'json';
export type Signal = 'traces' | 'logs';

/**
 * An export request read lazily: `count` is known after one cheap pass (so a request over the
 * record limit is refused before anything is built), and `chunks` normalizes `size` records at a
 * time, so the objects of only one chunk exist at once. For protobuf the pass walks the wire format
 * and remembers where each span/log record lies in the body; each one is decoded only when its chunk
 * is built. OTLP/JSON is parsed whole (JSON.parse cannot stop half-way), then walked the same way.
 */
export interface ExportReader<T> {
  readonly count: number;
  chunks(size: number): Generator<Decoded<T>>;
}

/** Records of one (resource, scope) pair: plain objects (JSON) or byte ranges [start, end) (protobuf). */
interface Group {
  resource: Attributes;
  scope: Scope;
  objects: Obj[] | null;
  ranges: number[];
  /** Set when the resource or scope itself cannot be kept: every record of the group is rejected. */
  refused?: string;
}

/** Resource or scope parts that throw RejectedRecord refuse their group instead of the request. */
function part<T>(make: () => T, fallback: T, refuse: (reason: string) => void): T {
  try {
    return make();
  } catch (err) {
    if (!(err instanceof RejectedRecord)) throw err;
    refuse(err.message);
    return fallback;
  }
}

const SIGNALS = {
  traces: { top: 'resourceSpans', mid: 'scopeSpans', leaf: 'spans', type: OTLP_TYPES.span, normalize: normalizeSpan, name: 'ExportTraceServiceRequest' },
  logs: { top: 'resourceLogs', mid: 'scopeLogs', leaf: 'logRecords', type: OTLP_TYPES.logRecord, normalize: normalizeLog, name: 'ExportLogsServiceRequest' },
} as const;

/** Calls `onField(field, start, end)` for every length-delimited field; skips the others. */
function eachField(r: protobuf.Reader, end: number, onField: (field: number, start: number, end: number) => void): void {
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 0) throw new Error('invalid field number 0');
    if (wire === 2) {
      const len = r.uint32();
      const start = r.pos;
      r.skip(len);
      onField(field, start, start + len);
    } else {
      r.skipType(wire);
    }
  }
  if (r.pos !== end) throw new Error('message overruns its length');
}

function decodePart(type: protobuf.Type, body: Buffer, start: number, end: number): Obj {
  return type.toObject(type.decode(body.subarray(start, end)), TO_OBJECT_OPTIONS);
}

function protobufGroups(body: Buffer, signal: Signal): Group[] {
  const groups: Group[] = [];
  const r = protobuf.Reader.create(body);
  try {
    // ExportXServiceRequest { repeated ResourceX resource_x = 1 }
    eachField(r, body.length, (field, rsStart, rsEnd) => {
      if (field !== 1) return;
      let resource: Attributes = {};
      let refused: string | undefined;
      const scoped: Array<[number, number]> = [];
      r.pos = rsStart;
      // ResourceX { Resource resource = 1; repeated ScopeX scope_x = 2 }; fields may come in any order.
      eachField(r, rsEnd, (f, s, e) => {
        if (f === 1) resource = part(() => attributes(list(decodePart(OTLP_TYPES.resource, body, s, e), 'attributes', 'resource')), {}, (why) => { refused = why; });
        else if (f === 2) scoped.push([s, e]);
      });
      r.pos = rsEnd;
      for (const [ssStart, ssEnd] of scoped) {
        const group: Group = { resource, scope: { name: '', version: '' }, objects: null, ranges: [], ...(refused ? { refused } : {}) };
        r.pos = ssStart;
        // ScopeX { InstrumentationScope scope = 1; repeated X records = 2 }
        eachField(r, ssEnd, (f, s, e) => {
          if (f === 1) group.scope = scopeOf({ scope: decodePart(OTLP_TYPES.scope, body, s, e) });
          else if (f === 2) group.ranges.push(s, e);
        });
        groups.push(group);
      }
      r.pos = rsEnd;
    });
  } catch (err) {
    if (err instanceof MalformedOtlpError) throw err;
    throw new MalformedOtlpError(`The body is not a valid protobuf ${SIGNALS[signal].name}`);
  }
  return groups;
}

function jsonGroups(body: Buffer, signal: Signal): Group[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new MalformedOtlpError('The body is not valid JSON');
  }
  const { top, mid, leaf, name } = SIGNALS[signal];
  if (!isObj(parsed)) throw new MalformedOtlpError(`the request body must be an ${name} object`);
  const groups: Group[] = [];
  for (const rx of list(parsed, top, 'request')) {
    let refused: string | undefined;
    const resource = part(() => resourceOf(rx, top), {}, (why) => { refused = why; });
    for (const sx of list(rx, mid, top)) groups.push({ resource, scope: scopeOf(sx), objects: list(sx, leaf, mid), ranges: [], ...(refused ? { refused } : {}) });
  }
  return groups;
}

export function readExport<T extends SpanRecord | LogRecord>(body: Buffer, format: OtlpFormat, signal: Signal): ExportReader<T> {
  const groups = format === 'json' ? jsonGroups(body, signal) : protobufGroups(body, signal);
  const { type, normalize } = SIGNALS[signal];
  const count = groups.reduce((n, g) => n + (g.objects ? g.objects.length : g.ranges.length / 2), 0);
  /** The record at position i of group g, or the reason it is rejected. */
  const recordAt = (g: Group, i: number): T | string => {
    if (g.refused) return g.refused;
    let plain: Obj;
    if (g.objects) plain = g.objects[i]!;
    else {
      try {
        plain = decodePart(type, body, g.ranges[2 * i]!, g.ranges[2 * i + 1]!);
      } catch {
        // Not valid protobuf, or nested past protobufjs's recursion limit (100).
        return `${signal === 'traces' ? 'span' : 'log record'} is not valid protobuf`;
      }
    }
    try {
      return normalize(plain, g.resource, g.scope) as T;
    } catch (err) {
      if (err instanceof RejectedRecord) return err.message;
      throw err;
    }
  };
  return {
    count,
    *chunks(size) {
      let out: Decoded<T> = { records: [], rejected: 0, rejectReasons: [] };
      for (const g of groups) {
        const n = g.objects ? g.objects.length : g.ranges.length / 2;
        for (let i = 0; i < n; i += 1) {
          const rec = recordAt(g, i);
          if (typeof rec !== 'string') out.records.push(rec);
          else {
            out.rejected += 1;
            if (!out.rejectReasons.includes(rec)) out.rejectReasons.push(rec);
          }
          if (out.records.length + out.rejected >= size) {
            yield out;
            out = { records: [], rejected: 0, rejectReasons: [] };
          }
        }
      }
      if (out.records.length + out.rejected > 0) yield out;
    },
  };
}

/** The whole export at once (tests, small tools); the intake reads in chunks. */
export function decodeAll<T extends SpanRecord | LogRecord>(body: Buffer, format: OtlpFormat, signal: Signal): Decoded<T> {
  const all: Decoded<T> = { records: [], rejected: 0, rejectReasons: [] };
  for (const c of readExport<T>(body, format, signal).chunks(Number.MAX_SAFE_INTEGER)) {
    all.records.push(...c.records);
    all.rejected += c.rejected;
    for (const r of c.rejectReasons) if (!all.rejectReasons.includes(r)) all.rejectReasons.push(r);
  }
  return all;
}
