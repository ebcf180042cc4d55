import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createResponseChecker, tapResponses, type ResponseChecker } from '@ca/testing';
import { createLogger } from '@ca/telemetry';
import { buildLoggingService } from '../src/app';
import type { IngestLimits } from '../src/ingest/otlp-router';
import { loggingOpenApiDocument } from '../src/openapi/logging-openapi';
import { createPostgresStore } from '../src/sinks/postgres-store';
import type { TraceView } from '../src/traces/trace-view';
import type { Store } from '../src/sinks/store';

export const TEST_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/comm_aggregator_test';

export const LIMITS: IngestLimits = { maxBodyBytes: 4 * 1024 * 1024, maxRecords: 10_000, bodyTimeoutMs: 10_000, maxInFlight: 8, maxInFlightBytes: 32 * 1024 * 1024, retryAfterSeconds: 7 };

export const silentLogger = () => createLogger({ service: 'logging-service-test', level: 'error', silent: true });

let checker: ResponseChecker | null = null;

/**
 * The app's request listener with every response checked against logging-service/openapi/openapi.yaml;
 * `verdict()` (called when the test closes the server) throws listing the responses that do not match.
 */
export function documentedListener(app: RequestListener): { listener: RequestListener; verdict(): void } {
  checker ??= createResponseChecker(loggingOpenApiDocument());
  const mismatches: string[] = [];
  return {
    listener: tapResponses(app, (sample) => mismatches.push(...checker!.check(sample))),
    verdict() {
      if (mismatches.length > 0) throw new Error(`logging-service responses that do not match logging-service/openapi/openapi.yaml:\n  ${mismatches.join('\n  ')}`);
    },
  };
}

/** Builds the service around `store`, starts it and listens on port 0; returns its base URL. */
export async function startService(store: Store, limits: Partial<IngestLimits> = {}): Promise<{ url: string; close(): Promise<void> }> {
  const service = buildLoggingService({ store, logger: silentLogger(), limits: { ...LIMITS, ...limits } });
  await service.start();
  const documented = documentedListener(service.app);
  const server: Server = await new Promise((resolve) => {
    const s = createServer(documented.listener).listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await service.close();
      documented.verdict();
    },
  };
}

export const PROTOBUF = { 'content-type': 'application/x-protobuf' };
export const JSON_TYPE = { 'content-type': 'application/json' };

/**
 * The service on a PostgreSQL schema of its own, dropped after the test, with the two calls every
 * intake test makes: POST a body, read a trace back.
 */
export async function startPostgresService(t: TestContext) {
  const schema = `t_${randomUUID().slice(0, 8)}`;
  const store = createPostgresStore({ url: TEST_DATABASE_URL, schema, retryAfterSeconds: 7 });
  const svc = await startService(store);
  t.after(async () => {
    await store.db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    await svc.close();
  });
  return {
    schema,
    store,
    url: svc.url,
    post: (path: string, body: Buffer | string, headers: Record<string, string>) => fetch(svc.url + path, { method: 'POST', body, headers }),
    getTrace: async (id: string) => (await (await fetch(`${svc.url}/v1/traces/${id}`)).json()) as TraceView,
  };
}

/** A protobuf length-delimited field, written by hand (protobufjs's encoder recurses, and hostile tests need depth and size it refuses). */
export function ld(field: number, bytes: Buffer): Buffer {
  const varint = (n: number) => {
    const out: number[] = [];
    for (; n > 127; n >>>= 7) out.push((n & 127) | 128);
    out.push(n);
    return Buffer.from(out);
  };
  return Buffer.concat([varint((field << 3) | 2), varint(bytes.length), bytes]);
}
