import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { CHANNELS } from '@ca/contracts';
import { createDurableProducer, createKafka } from '@ca/kafka';
import { createDb } from '@ca/postgres';
import { createLogger } from '@ca/telemetry';
import { buildDeliveryService } from '../../src/app';
import { createSimulatedProviders } from '../../src/providers/simulated-provider';
import { seededRandom } from '../../src/providers/seeded-random';

// Nothing here reaches PostgreSQL or Kafka: the edge answers before any store is asked.
test('delivery-service: JSON 404 for unknown routes, 405 with Allow for a wrong method, 400 for a bad path, nosniff', async (t) => {
  const db = createDb({ url: 'postgres://postgres@127.0.0.1:1/unused', schema: 'unused' });
  const kafka = createKafka({ brokers: ['127.0.0.1:1'], clientId: 'edge-test' });
  const clock = { now: () => new Date() };
  const service = buildDeliveryService({
    db, kafka, producer: createDurableProducer(kafka), clock, random: seededRandom(1),
    providers: createSimulatedProviders({ db, clock, random: seededRandom(1), latencyMs: 0, failureRate: 0 }),
    logger: createLogger({ service: 'delivery-service-test', level: 'error', silent: true }),
    settings: {
      workerId: 'edge', topicPrefix: 'edge.', channels: CHANNELS,
      policy: { maxAttempts: 1, backoff: { baseMs: 1, factor: 2, maxMs: 1 }, leaseMs: 1000, providerTimeoutMs: 100 },
      consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, partitionsConsumedConcurrently: 1, maxWaitTimeMs: 100 },
      scheduler: { pollMs: 50, batchSize: 1 },
    },
  });
  const server = service.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  t.after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await db.destroy();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const cases: Array<[string, string, number, string, string | null]> = [
    ['GET', '/nowhere', 404, 'NOT_FOUND', null],
    ['POST', '/internal/v1/messages/7d3c2a4e-0000-4000-8000-000000000000', 405, 'METHOD_NOT_ALLOWED', 'GET, HEAD'],
    ['DELETE', '/health', 405, 'METHOD_NOT_ALLOWED', 'GET, HEAD'],
    ['GET', '/internal/v1/messages/%ZZ', 400, 'MALFORMED_PATH', null],
  ];
  for (const [method, path, status, code, allow] of cases) {
    const res = await fetch(url + path, { method });
    assert.equal(res.status, status, `${method} ${path}`);
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('allow'), allow);
    assert.equal(((await res.json()) as { code: string }).code, code);
  }
  assert.equal((await fetch(`${url}/health`)).headers.get('x-content-type-options'), 'nosniff');
});
