import type { TestContext } from 'node:test';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import type { Kafka, Producer } from 'kafkajs';
import { topicsFor, type Topics } from '@ca/contracts';
import { createDb, ensureDatabase, migrate } from '@ca/postgres';
import { createHttpServer } from '@ca/http';
import { createLogger } from '@ca/telemetry';
import { checkedFetch, createResponseChecker, tapResponses, type ResponseChecker, type ResponseSample } from '@ca/testing';
import { buildRouterService, type RouterService } from '../../src/app';
import type { Scope } from '../../src/auth/api-key';
import { createKey, createTenant, ensureBootstrapKey } from '../../src/auth/key-store';
import { DEFAULT_TENANT_ID } from '../../src/db/migrations/0002-tenants';
import type { Clock } from '../../src/clock';
import { loadConfig, type RouterSettings } from '../../src/config';
import { routerMigrations } from '../../src/db/migrations';
import { routerOpenApiDocument } from '../../src/openapi/router-openapi';
import type { Fetch } from '../../src/messages/delivery-client';
import { testProducer } from './kafka';

export const TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/comm_aggregator_test';

/** The admin+send+read key of merchant `default` in every harness router (as BOOTSTRAP_API_KEY would make it). */
export const TEST_API_KEY = 'ca_test_bootstrap_key_for_router_tests_0123456789';
export const TEST_TENANT_ID = DEFAULT_TENANT_ID;
export const AUTH = { authorization: `Bearer ${TEST_API_KEY}` } as const;

let checker: ResponseChecker | null = null;

/** The router's OpenAPI document as a response checker (packages/testing openapi-check). */
export function routerResponseChecker(): ResponseChecker {
  checker ??= createResponseChecker(routerOpenApiDocument());
  return checker;
}

/** Route prefixes whose responses are not checked against router-service/openapi/openapi.yaml. Empty: every route the router mounts is documented. */
export const NOT_YET_DOCUMENTED: readonly string[] = [];
/** Operations on a documented path that are not in the document yet (method + path). Empty. */
const NOT_YET_DOCUMENTED_OPS: readonly string[] = [];
/** Problem codes only undocumented routes answer (openapi-document.test.ts wants every other code in the document). Empty. */
export const NOT_YET_DOCUMENTED_CODES: readonly string[] = [];

function awaitingDocumentation(url: string, method = 'GET'): boolean {
  const path = url.split('?')[0]!.toLowerCase().replace(/(.)\/+$/, '$1'); // express routes /v1/messages/ as /v1/messages
  if (NOT_YET_DOCUMENTED_OPS.includes(`${method.toUpperCase()} ${path}`)) return true;
  return NOT_YET_DOCUMENTED.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

/** Throws when one response does not match router-service/openapi/openapi.yaml. */
export function assertDocumented(sample: ResponseSample): void {
  routerResponseChecker().assert(sample);
}

/** fetch whose every response is checked against the router's OpenAPI document (throws on drift). */
export const apiFetch: typeof fetch = (input, init) => {
  const url = input instanceof Request ? input.url : String(input);
  return awaitingDocumentation(new URL(url).pathname, init?.method ?? (input instanceof Request ? input.method : 'GET')) ? fetch(input, init) : checkedFetch(routerResponseChecker())(input, init);
};

const stacks = new WeakMap<TestContext, Array<() => unknown>>();

/**
 * Registers cleanup that runs last-in first-out (t.after runs first-in first-out), so a service is
 * closed before the schema it uses is dropped.
 */
export function defer(t: TestContext, fn: () => unknown): void {
  let stack = stacks.get(t);
  if (!stack) {
    const fns: Array<() => unknown> = [];
    stack = fns;
    stacks.set(t, fns);
    t.after(async () => {
      for (const f of fns.reverse()) await f();
    });
  }
  stack.push(fn);
}

/** A clock tests move by hand. */
export function manualClock(start = new Date('2030-01-01T00:00:00Z')): Clock & { advance(seconds: number): void } {
  let now = start.getTime();
  return { now: () => new Date(now), advance: (seconds) => { now += seconds * 1000; } };
}

export function testSettings(overrides: Partial<RouterSettings> = {}): RouterSettings {
  const base = loadConfig({ KAFKA_BROKERS: 'unused:9092', TRACE_VIEW_URL: 'http://traces.test' }).settings;
  // A bucket big enough that only the rate-limit tests (which set their own) ever meet it.
  return { ...base, topicPrefix: `t${randomUUID().slice(0, 8)}.`, outboxPollMs: 50, apiRateLimit: { burst: 100_000, perSecond: 10_000 }, ...overrides };
}

/** A migrated schema of its own in the test database, dropped after the test. */
export async function testDb(t: TestContext): Promise<{ db: Knex; schema: string }> {
  await ensureDatabase(TEST_DATABASE_URL);
  const schema = `t_${randomUUID().slice(0, 8)}`;
  const db = createDb({ url: TEST_DATABASE_URL, schema, pool: { min: 0, max: 20 } });
  await migrate(db, schema, routerMigrations);
  await ensureBootstrapKey(db, TEST_API_KEY, new Date());
  defer(t, async () => {
    await db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
    await db.destroy();
  });
  return { db, schema };
}

export interface RouterHarness {
  url: string;
  db: Knex;
  topics: Topics;
  settings: RouterSettings;
  service: RouterService;
  producer: Producer;
}

export async function startRouter(
  t: TestContext,
  opts: { brokers: string; db?: Knex; producer?: Producer; settings?: Partial<RouterSettings>; clock?: Clock; fetch?: Fetch; kafka?: Kafka },
): Promise<RouterHarness> {
  const db = opts.db ?? (await testDb(t)).db;
  const settings = testSettings(opts.settings);
  const producer = opts.producer ?? testProducer(opts.brokers);
  const logger = createLogger({ service: 'router-service-test', level: 'error', silent: true });
  const service = buildRouterService({ db, producer, settings, logger, clock: opts.clock ?? { now: () => new Date() }, fetch: opts.fetch, kafka: opts.kafka });
  // The server main.ts listens with (timeouts, Node's own refusals as problem+json). Every response
  // it writes, whoever asked, is checked against the OpenAPI document; a mismatch fails the test.
  const undocumented: string[] = [];
  const checked = tapResponses(service.app, (sample) => {
    if (!awaitingDocumentation(new URL(sample.url, 'http://x').pathname, sample.method)) undocumented.push(...routerResponseChecker().check(sample));
  });
  const server = createHttpServer(checked, loadConfig({ KAFKA_BROKERS: 'unused:9092' }).http, logger).listen(0);
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  defer(t, async () => {
    await service.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await producer.disconnect().catch(() => undefined);
  });
  // Registered after the cleanup above, so it runs after it (t.after is first-in first-out).
  t.after(() => {
    if (undocumented.length > 0) throw new Error(`router responses that do not match router-service/openapi/openapi.yaml:\n  ${undocumented.join('\n  ')}`);
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, db, topics: topicsFor(settings.topicPrefix), settings, service, producer };
}

export async function postMessage(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await apiFetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...AUTH, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function countRows(db: Knex, table: string): Promise<number> {
  const row = await db(table).count<{ n: string }>('* as n').first();
  return Number(row?.n ?? 0);
}

export const SAMPLES = {
  email: { channel: 'email', to: 'jane.doe@example.com', subject: 'Hello', body: 'Hi Jane' },
  sms: { channel: 'sms', to: '+14155550100', body: 'Your code is 1234' },
  whatsapp: { channel: 'whatsapp', to: '+447700900123', body: 'Order shipped' },
  push: { channel: 'push', to: 'a'.repeat(40) + ':token_Z', subject: 'Title', body: 'Tap to open' },
} as const;

/** A merchant of its own with one key of the given scopes: `headers` authenticates as it. */
export async function testMerchant(db: Knex, scopes: Scope[] = ['send', 'read', 'admin']): Promise<{ tenantId: string; keyId: string; key: string; headers: { authorization: string } }> {
  const now = new Date();
  const tenant = await createTenant(db, { name: `merchant-${randomUUID().slice(0, 8)}`, now });
  const created = await createKey(db, { tenantId: tenant.id, scopes, now });
  return { tenantId: tenant.id, keyId: created.view.id, key: created.key, headers: { authorization: `Bearer ${created.key}` } };
}

export async function call(url: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await apiFetch(`${url}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
