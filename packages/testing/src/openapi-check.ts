import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/**
 * Checks real HTTP responses against a service's OpenAPI 3.1 document, so the document cannot drift
 * from the code: the path and method must be an operation (or the answer one of the document's
 * `x-unmatched-responses`, i.e. 404/405/401… for paths no operation describes), the status must be
 * documented for it, the content type must be one it lists, the JSON body must match its schema
 * (Ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses it) and every required header must be there and
 * match its schema.
 */

export interface ResponseSample {
  method: string;
  /** The request target as sent: path, optionally with a query string (or a full URL). */
  url: string;
  status: number;
  headers: Headers | Record<string, string | string[] | number | undefined>;
  /** Raw body bytes or text; empty for HEAD and bodiless answers. */
  body: string | Uint8Array | undefined;
}

export interface DocumentedOperation {
  method: string;
  path: string;
  operationId: string | undefined;
  /** `x-internal: true`: for the system's own services, not part of the public API. */
  internal: boolean;
}

export interface ResponseChecker {
  /** What is wrong with this response; empty when it matches the document. */
  check(sample: ResponseSample): string[];
  /** Throws an AssertionError-like Error listing what is wrong. */
  assert(sample: ResponseSample): void;
  /** The operation a request maps to, or null. */
  operationFor(method: string, url: string): DocumentedOperation | null;
  operations(): DocumentedOperation[];
}

type Json = Record<string, unknown>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;
const DOC_ID = 'urn:openapi:document';

interface CompiledPath {
  template: string;
  pointer: string;
  regex: RegExp;
  params: number;
  item: Json;
}

const escapePointer = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

export function createResponseChecker(document: object): ResponseChecker {
  const doc = structuredClone(document) as Json & { paths?: Record<string, Json> };
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema({ ...doc, $id: DOC_ID });
  const validators = new Map<string, ValidateFunction>();

  const paths: CompiledPath[] = Object.entries(doc.paths ?? {}).map(([template, item]) => {
    // Matched as express routes by default: case-insensitive, with or without a trailing slash.
    const parts = template.split(/(\{[^}]+\})/).filter(Boolean);
    const source = parts.map((p) => (p.startsWith('{') ? '([^/]+)' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
    return { template, pointer: `/paths/${escapePointer(template)}`, regex: new RegExp(`^${source}/?$`, 'i'), params: parts.filter((p) => p.startsWith('{')).length, item };
  }).sort((a, b) => a.params - b.params); // a literal path wins over a templated one

  /** Follows a local $ref; returns the object and the JSON pointer it lives at. */
  function deref(node: Json, pointer: string): { node: Json; pointer: string } {
    let current = { node, pointer };
    for (let hops = 0; typeof current.node.$ref === 'string' && hops < 10; hops += 1) {
      const ref = current.node.$ref as string;
      if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported: ${ref}`);
      const target = ref.slice(2).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
        .reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Json)[k] : undefined), doc);
      if (!target || typeof target !== 'object') throw new Error(`unresolved $ref ${ref}`);
      current = { node: target as Json, pointer: ref.slice(1) };
    }
    return current;
  }

  function validatorAt(pointer: string): ValidateFunction {
    let v = validators.get(pointer);
    if (!v) {
      v = ajv.compile({ $ref: `${DOC_ID}#${pointer.split('/').map((s) => encodeURIComponent(s).replace(/%7E/g, '~')).join('/')}` });
      validators.set(pointer, v);
    }
    return v;
  }

  function match(method: string, url: string): { path: CompiledPath; op: Json | null; opPointer: string; method: string } | null {
    const pathname = pathOf(url);
    const found = paths.find((p) => p.regex.test(pathname));
    if (!found) return null;
    let m = method.toLowerCase();
    // express answers HEAD with its GET route, without a body.
    if (m === 'head' && !found.item.head && found.item.get) m = 'get';
    const op = (found.item[m] as Json | undefined) ?? null;
    return { path: found, op, opPointer: `${found.pointer}/${m}`, method: m };
  }

  function check(sample: ResponseSample): string[] {
    const what = `${sample.method.toUpperCase()} ${pathOf(sample.url)} → ${sample.status}`;
    const matched = match(sample.method, sample.url);
    let response: { node: Json; pointer: string } | null = null;
    if (matched?.op) {
      const responses = (matched.op.responses ?? {}) as Json;
      const key = [String(sample.status), `${String(sample.status)[0]}XX`, 'default'].find((k) => responses[k] !== undefined);
      if (!key) return [`${what}: status ${sample.status} is not documented for ${matched.method.toUpperCase()} ${matched.path.template} (documented: ${Object.keys(responses).join(', ')})`];
      response = deref(responses[key] as Json, `${matched.opPointer}/responses/${key}`);
    } else if (matched && matched.method === 'options' && sample.status === 200 && doc['x-options-response']) {
      // express answers OPTIONS on a routed path itself (200, Allow).
      response = deref(doc['x-options-response'] as Json, '/x-options-response');
    } else {
      const fallback = (doc['x-unmatched-responses'] ?? {}) as Json;
      const entry = fallback[String(sample.status)] as Json | undefined;
      if (!entry) {
        return [matched
          ? `${what}: ${sample.method.toUpperCase()} is not an operation of ${matched.path.template} in the OpenAPI document, and ${sample.status} is not one of its x-unmatched-responses`
          : `${what}: the path is not in the OpenAPI document, and ${sample.status} is not one of its x-unmatched-responses`];
      }
      response = deref(entry, `/x-unmatched-responses/${sample.status}`);
    }
    return [...checkHeaders(what, response, sample), ...checkBody(what, response, sample)];
  }

  function checkHeaders(what: string, response: { node: Json; pointer: string }, sample: ResponseSample): string[] {
    const problems: string[] = [];
    const declared = (response.node.headers ?? {}) as Json;
    for (const [name, raw] of Object.entries(declared)) {
      const header = deref(raw as Json, `${response.pointer}/headers/${escapePointer(name)}`);
      const value = headerOf(sample.headers, name);
      if (value === undefined) {
        if (header.node.required === true) problems.push(`${what}: required header ${name} is missing`);
        continue;
      }
      if (header.node.schema) {
        const validate = validatorAt(`${header.pointer}/schema`);
        if (!validate(value)) problems.push(`${what}: header ${name}: ${JSON.stringify(value)} ${ajv.errorsText(validate.errors, { dataVar: name })}`);
      }
    }
    return problems;
  }

  function checkBody(what: string, response: { node: Json; pointer: string }, sample: ResponseSample): string[] {
    const content = response.node.content as Json | undefined;
    const bytes = typeof sample.body === 'string' ? Buffer.from(sample.body) : Buffer.from(sample.body ?? new Uint8Array());
    if (sample.method.toUpperCase() === 'HEAD') return [];
    if (!content) return bytes.length === 0 ? [] : [`${what}: the document says no body, but ${bytes.length} bytes came`];
    const type = (headerOf(sample.headers, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const mediaKey = Object.keys(content).find((k) => k.toLowerCase() === type)
      ?? Object.keys(content).find((k) => k.endsWith('/*') && type.startsWith(k.slice(0, -1).toLowerCase()));
    if (!mediaKey) return [`${what}: content type "${type}" is not documented (documented: ${Object.keys(content).join(', ')})`];
    if (!/[/+]json$/.test(type)) return [];
    const media = content[mediaKey] as Json;
    if (!media.schema) return [];
    let body: unknown;
    try {
      body = JSON.parse(bytes.toString('utf8'));
    } catch {
      return [`${what}: the body is not JSON although the content type is ${type}`];
    }
    const validate = validatorAt(`${response.pointer}/content/${escapePointer(mediaKey)}/schema`);
    if (validate(body)) return [];
    return [`${what}: body does not match the schema: ${ajv.errorsText(validate.errors, { dataVar: 'body' })}; body: ${bytes.toString('utf8').slice(0, 500)}`];
  }

  return {
    check,
    assert(sample) {
      const problems = check(sample);
      if (problems.length > 0) throw new Error(`response does not match the OpenAPI document:\n  ${problems.join('\n  ')}`);
    },
    operationFor(method, url) {
      const matched = match(method, url);
      if (!matched?.op) return null;
      return { method: matched.method.toUpperCase(), path: matched.path.template, operationId: matched.op.operationId as string | undefined, internal: matched.op['x-internal'] === true };
    },
    operations() {
      return paths.flatMap((p) => METHODS.filter((m) => p.item[m]).map((m) => {
        const op = p.item[m] as Json;
        return { method: m.toUpperCase(), path: p.template, operationId: op.operationId as string | undefined, internal: op['x-internal'] === true };
      }));
    },
  };
}

function pathOf(url: string): string {
  const path = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? new URL(url).pathname : url;
  return path.split('?')[0]!.split('#')[0]!;
}

function headerOf(headers: ResponseSample['headers'], name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | number | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : record[key];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/**
 * `fetch`, with every response checked against the document before the caller sees it: a response
 * the document does not describe throws where the request was made.
 */
export function checkedFetch(checker: ResponseChecker, inner: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input, init) => {
    const res = await inner(input, init);
    const request = input instanceof Request ? input : null;
    const method = init?.method ?? request?.method ?? 'GET';
    const url = request?.url ?? (input instanceof URL ? input.href : String(input));
    const body = new Uint8Array(await res.clone().arrayBuffer());
    checker.assert({ method, url, status: res.status, headers: res.headers, body });
    return res;
  };
}
