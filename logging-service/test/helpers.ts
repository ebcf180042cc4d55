import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createLogger } from '@ca/telemetry';
import { buildLoggingService } from '../src/app';
import type { IngestLimits } from '../src/ingest/otlp-router';
import type { Store } from '../src/sinks/store';

export const TEST_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/comm_aggregator_test';

export const LIMITS: IngestLimits = { maxBodyBytes: 4 * 1024 * 1024, maxRecords: 10_000, bodyTimeoutMs: 10_000, maxInFlight: 8, maxInFlightBytes: 32 * 1024 * 1024, retryAfterSeconds: 7 };

export const silentLogger = () => createLogger({ service: 'logging-service-test', level: 'error', silent: true });

/** Builds the service around `store`, starts it and listens on port 0; returns its base URL. */
export async function startService(store: Store, limits: Partial<IngestLimits> = {}): Promise<{ url: string; close(): Promise<void> }> {
  const service = buildLoggingService({ store, logger: silentLogger(), limits: { ...LIMITS, ...limits } });
  await service.start();
  const server: Server = await new Promise((resolve) => {
    const s = service.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await service.close();
    },
  };
}

export const PROTOBUF = { 'content-type': 'application/x-protobuf' };
export const JSON_TYPE = { 'content-type': 'application/json' };
