import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ATTR, SPAN } from '@ca/contracts';

/**
 * No collector runs here, so its configuration is checked statically: every component exists in
 * the pinned contrib distribution (its manifest, vendored as a fixture), every pipeline references
 * defined components, nothing is defined and unused, and the pipeline shape keeps the promises of
 * docs/tracing.md (span metrics before sampling, failures always kept, recipients redacted,
 * a persistent queue toward logging-service).
 */

const ROOT = join(__dirname, '../..');
const KINDS = ['receivers', 'processors', 'exporters', 'connectors', 'extensions'] as const;
type Kind = (typeof KINDS)[number];

interface Fixture {
  version: string;
  image: string;
  modules: Record<Kind, string[]>;
  types: Record<Kind, Record<string, string[]>>;
}
interface Pipeline {
  receivers?: string[];
  processors?: string[];
  exporters?: string[];
}
type Config = Partial<Record<Kind, Record<string, Record<string, unknown> | null>>> & {
  service: { extensions?: string[]; pipelines: Record<string, Pipeline> };
};

const config = parse(readFileSync(join(ROOT, 'otel-collector/config.yaml'), 'utf8')) as Config;
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { image?: string; volumes?: string[]; environment?: Record<string, string> }>;
  volumes?: Record<string, unknown>;
};
const collectorImage = compose.services['otel-collector']!.image!;
const fixture = JSON.parse(readFileSync(join(ROOT, `test/fixtures/otelcol-contrib-${collectorImage.split(':')[1]}-components.json`), 'utf8')) as Fixture;
const typeOf = (id: string) => id.split('/')[0]!;
const pipelines = Object.entries(config.service.pipelines);

function component<T>(kind: Kind, type: string): T {
  const entry = Object.entries(config[kind] ?? {}).find(([id]) => typeOf(id) === type);
  assert.ok(entry, `a ${type} ${kind.slice(0, -1)} is configured`);
  return entry[1] as T;
}

test('the collector image and the component fixture are the same version', () => {
  assert.equal(collectorImage, fixture.image);
});

test('every configured component exists in the pinned contrib distribution', () => {
  for (const kind of KINDS) {
    for (const id of Object.keys(config[kind] ?? {})) {
      const type = typeOf(id);
      const module = Object.entries(fixture.types[kind]).find(([, names]) => names.includes(type))?.[0];
      assert.ok(module, `${kind} ${id}: type "${type}" is not in the fixture's type table (add it from the component's metadata.yaml)`);
      assert.ok(fixture.modules[kind].includes(module), `${kind} ${id}: ${module} is not in otelcol-contrib ${fixture.version}`);
    }
  }
});

test('every pipeline references defined components, every component is used, connectors have both ends', () => {
  const defined = (kind: Kind) => new Set(Object.keys(config[kind] ?? {}));
  const used = new Map<string, Set<string>>(KINDS.map((k) => [k, new Set<string>()]));
  for (const [name, p] of pipelines) {
    assert.ok(p.receivers?.length && p.exporters?.length, `pipeline ${name} has receivers and exporters`);
    for (const id of p.receivers!) {
      const kind: Kind = defined('connectors').has(id) ? 'connectors' : 'receivers';
      assert.ok(defined(kind).has(id), `pipeline ${name}: receiver ${id} is defined`);
      used.get(kind)!.add(`${id}<`);
    }
    for (const id of p.processors ?? []) {
      assert.ok(defined('processors').has(id), `pipeline ${name}: processor ${id} is defined`);
      used.get('processors')!.add(id);
    }
    for (const id of p.exporters!) {
      const kind: Kind = defined('connectors').has(id) ? 'connectors' : 'exporters';
      assert.ok(defined(kind).has(id), `pipeline ${name}: exporter ${id} is defined`);
      used.get(kind)!.add(`${id}>`);
    }
    if (p.processors?.includes('memory_limiter') && name !== 'traces/sampled') assert.equal(p.processors[0], 'memory_limiter', `${name}: memory_limiter first`);
  }
  for (const id of config.service.extensions ?? []) assert.ok(defined('extensions').has(id), `extension ${id} is defined`);
  for (const id of defined('receivers')) assert.ok(used.get('receivers')!.has(`${id}<`), `receiver ${id} is used`);
  for (const id of defined('processors')) assert.ok(used.get('processors')!.has(id), `processor ${id} is used`);
  for (const id of defined('exporters')) assert.ok(used.get('exporters')!.has(`${id}>`), `exporter ${id} is used`);
  for (const id of defined('extensions')) assert.ok(config.service.extensions?.includes(id), `extension ${id} is enabled`);
  for (const id of defined('connectors')) {
    assert.ok(used.get('connectors')!.has(`${id}>`) && used.get('connectors')!.has(`${id}<`), `connector ${id} is an exporter in one pipeline and a receiver in another`);
  }
});

test('span metrics see every span: computed in a pipeline without sampling, whose spans then go on to sampling', () => {
  const metricsConnector = Object.keys(config.connectors ?? {}).find((id) => typeOf(id) === 'spanmetrics' || typeOf(id) === 'span_metrics')!;
  assert.ok(metricsConnector, 'a span metrics connector');
  const feeding = pipelines.filter(([, p]) => p.exporters?.includes(metricsConnector));
  assert.ok(feeding.length > 0);
  for (const [name, p] of feeding) {
    assert.ok(!(p.processors ?? []).some((id) => typeOf(id) === 'tail_sampling' || typeOf(id) === 'probabilistic_sampler'), `${name} does not sample before the span metrics`);
    assert.ok(p.receivers!.includes('otlp'), `${name} takes the spans the services send`);
  }
  // Every trace exporter to logging-service sits behind tail sampling.
  for (const [name, p] of pipelines.filter(([n]) => n.startsWith('traces'))) {
    if (p.exporters!.some((id) => typeOf(id).startsWith('otlp'))) {
      assert.ok(p.processors?.some((id) => typeOf(id) === 'tail_sampling'), `${name} samples before it exports`);
    }
  }
});

test('tail sampling keeps errors, retries and dead letters, plus a configurable share of the rest', () => {
  const ts = component<{ policies: Array<{ type: string; status_code?: { status_codes: string[] }; ottl_condition?: { span: string[] }; probabilistic?: { sampling_percentage: unknown } }> }>('processors', 'tail_sampling');
  const byType = (t: string) => ts.policies.filter((p) => p.type === t);
  assert.deepEqual(byType('status_code')[0]?.status_code?.status_codes, ['ERROR']);
  const conditions = byType('ottl_condition').flatMap((p) => p.ottl_condition?.span ?? []).join('\n');
  for (const needle of [SPAN.scheduleRetry, SPAN.deadLetter, ATTR.attempt, ATTR.deadLetterReason]) {
    assert.ok(conditions.includes(`"${needle}"`), `a policy condition names ${needle}`);
  }
  assert.match(String(byType('probabilistic')[0]?.probabilistic?.sampling_percentage), /^\$\{env:TRACE_SAMPLING_PERCENT:-\d+\}$/);
  // Policies are OR-ed: a plain success is kept only by the probabilistic share.
  assert.ok(!ts.policies.some((p) => p.type === 'and' || p.type === 'composite'));
});

test('recipients are redacted in traces and logs, before anything is exported', () => {
  const redaction = Object.keys(config.processors ?? {}).find((id) => typeOf(id) === 'redaction')!;
  const blocked = (component<{ blocked_values: string[] }>('processors', 'redaction').blocked_values).map((r) => new RegExp(r));
  const hit = (s: string) => blocked.some((r) => r.test(s));
  assert.ok(hit('sent to jane.doe@example.com') && hit('+14155550100'), 'clear e-mail addresses and E.164 numbers are caught');
  assert.ok(!hit('j***@example.com') && !hit('+141*****100') && !hit('1733212345678'), 'masked recipients and plain numbers (timestamps, ids) are left alone');
  for (const [name, p] of pipelines.filter(([n, q]) => q.receivers!.includes('otlp') && !n.startsWith('metrics'))) {
    assert.ok(p.processors?.includes(redaction), `${name} redacts`);
  }
});

test('toward logging-service: batching, retry without a time limit, and a persistent sending queue on a compose volume', () => {
  const [id, exporter] = Object.entries(config.exporters ?? {}).find(([k]) => k.endsWith('/logging-service'))! as [string, { retry_on_failure: { enabled: boolean }; sending_queue: { enabled: boolean; storage: string; queue_size: number } }];
  assert.ok(id && exporter.retry_on_failure.enabled);
  assert.ok(exporter.sending_queue.enabled && exporter.sending_queue.queue_size > 0);
  const storage = (config.extensions ?? {})[exporter.sending_queue.storage] as { directory: string } | undefined;
  assert.ok(storage && typeOf(exporter.sending_queue.storage) === 'file_storage', 'the queue is on file storage');
  const mounts = compose.services['otel-collector']!.volumes ?? [];
  const mount = mounts.find((v) => v.split(':')[1] === storage.directory || storage.directory.startsWith(`${v.split(':')[1]}/`));
  assert.ok(mount, `compose mounts a volume at ${storage.directory}`);
  assert.ok(compose.volumes && mount.split(':')[0]! in compose.volumes, 'a named volume, so it survives a container re-creation');
  for (const [name, p] of pipelines.filter(([, p]) => p.exporters!.includes(id))) {
    assert.ok(p.processors?.includes('batch'), `${name} batches`);
  }
});
