import type { Attributes, Scope } from '../otlp/model';
import { setLabel, truncate, type Labels, type NumericLabels } from './labels';

/** Resource-level fields shared by every document of one resource (apm-data metadata.go). */
export interface Metadata {
  service: Record<string, unknown> & { name: string };
  agent: { name: string; version: string };
  host?: Record<string, unknown>;
  process?: Record<string, unknown>;
  labels: Labels;
  numericLabels: NumericLabels;
}

const str = (v: unknown): string => (typeof v === 'string' ? truncate(v) : '');

/** apm-data cleanServiceName: anything outside [a-zA-Z0-9 _-] becomes '_'. */
export const cleanServiceName = (name: string): string => truncate(name).replace(/[^a-zA-Z0-9 _-]/g, '_');

const CONSUMED = new Set([
  'service.name', 'service.version', 'service.instance.id', 'deployment.environment', 'deployment.environment.name',
  'telemetry.sdk.name', 'telemetry.sdk.version', 'telemetry.sdk.language', 'telemetry.distro.name', 'telemetry.distro.version',
  'host.name', 'host.id', 'host.arch', 'process.pid', 'process.executable.path', 'process.command_line', 'process.runtime.name', 'process.runtime.version',
]);

/** Records of one resource share its attributes object, so its metadata is built once per batch. */
export type MetadataCache = Map<Attributes, Metadata>;

export function metadataOf(resource: Attributes, cache?: MetadataCache): Metadata {
  const cached = cache?.get(resource);
  if (cached) return cached;
  const meta = buildMetadata(resource);
  cache?.set(resource, meta);
  return meta;
}

function buildMetadata(resource: Attributes): Metadata {
  const language = str(resource['telemetry.sdk.language']);
  const service: Metadata['service'] = { name: cleanServiceName(str(resource['service.name'])) || 'unknown' };
  const version = str(resource['service.version']);
  if (version) service.version = version;
  // deployment.environment.name is the current semconv name; deployment.environment the old one.
  const env = str(resource['deployment.environment.name']) || str(resource['deployment.environment']);
  if (env) service.environment = env;
  const node = str(resource['service.instance.id']);
  if (node) service.node = { name: node };
  service.language = { name: language || 'unknown' };
  const runtimeName = str(resource['process.runtime.name']);
  if (runtimeName) service.runtime = { name: runtimeName, version: str(resource['process.runtime.version']) };

  let agentName = str(resource['telemetry.sdk.name']) || 'otlp';
  let agentVersion = str(resource['telemetry.sdk.version']) || 'unknown';
  const distro = str(resource['telemetry.distro.name']);
  if (distro) {
    agentName = `${agentName}/${language || 'unknown'}/${distro}`;
    agentVersion = str(resource['telemetry.distro.version']) || 'unknown';
  } else if (language) {
    agentName = `${agentName}/${language}`;
  }

  const meta: Metadata = { service, agent: { name: agentName, version: agentVersion }, labels: {}, numericLabels: {} };
  const hostname = str(resource['host.name']);
  if (hostname || resource['host.id']) meta.host = { ...(hostname ? { hostname, name: hostname } : {}), ...(resource['host.id'] ? { id: str(resource['host.id']) } : {}), ...(resource['host.arch'] ? { architecture: str(resource['host.arch']) } : {}) };
  if (typeof resource['process.pid'] === 'number') meta.process = { pid: resource['process.pid'], ...(resource['process.executable.path'] ? { executable: str(resource['process.executable.path']) } : {}) };
  for (const [k, v] of Object.entries(resource)) if (!CONSUMED.has(k)) setLabel(k, v, meta.labels, meta.numericLabels);
  return meta;
}

/** apm-data translateScopeMetadata: the instrumentation scope is the service's framework. */
export function frameworkOf(scope: Scope): { name: string; version?: string } | undefined {
  if (!scope.name) return undefined;
  return scope.version ? { name: scope.name, version: scope.version } : { name: scope.name };
}
