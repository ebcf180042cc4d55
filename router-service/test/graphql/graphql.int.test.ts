import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { useBroker } from '../support/kafka';
import { AUTH, countRows, SAMPLES, startRouter, testMerchant } from '../support/router-harness';
import { ORDER_SHIPPED, USER_42, postTemplate, putUser } from '../notifications/support';

const brokers = useBroker();

interface GqlResponse {
  status: number;
  contentType: string;
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }>;
  raw: string;
}

const GQL_ACCEPT = 'application/graphql-response+json, application/json;q=0.9';

async function gql(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = AUTH): Promise<GqlResponse> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: GQL_ACCEPT, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const raw = await res.text();
  const parsed = (raw.startsWith('{') ? JSON.parse(raw) : {}) as Pick<GqlResponse, 'data' | 'errors'>;
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', raw, ...parsed };
}

const SEND = `mutation Send($input: SendMessageInput!, $key: String) {
  sendMessage(input: $input, idempotencyKey: $key) { id status traceId traceUrl replayed }
}`;
const MESSAGE = `query One($id: ID!) { message(id: $id) { id channel to status priority correlationId deliveryAttempts attempts { n } traceId } }`;
const MESSAGES = `query Page($filter: MessageFilter, $first: Int, $after: String) {
  messages(filter: $filter, first: $first, after: $after) { edges { cursor node { id channel status } } pageInfo { hasNextPage endCursor } }
}`;

const NOTIFY = `mutation Notify($input: SendNotificationInput!, $key: String) {
  sendNotification(input: $input, idempotencyKey: $key) { notificationId status traceId deferredUntil replayed }
}`;
const CANCEL = `mutation Cancel($id: ID!) { cancelMessage(id: $id) { id status canceledAt } }`;

const email = { channel: 'EMAIL', to: SAMPLES.email.to, subject: 'Hi', body: 'GraphQL hello' };

test('sendMessage takes the REST accept path: stored, enqueued, idempotent, deduplicated, validated', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const sent = await gql(h.url, SEND, { input: { ...email, priority: 'HIGH', correlationId: 'gql-1', metadata: { orderId: 7 } } });
  assert.equal(sent.status, 200, sent.raw);
  const payload = sent.data?.sendMessage as { id: string; status: string; traceId: string; replayed: boolean };
  assert.equal(payload.status, 'PENDING');
  assert.equal(payload.replayed, false);
  assert.match(payload.traceId, /^[0-9a-f]{32}$/);
  const row = await h.db('messages').where({ id: payload.id }).first();
  assert.equal(row.priority, 'high');
  assert.equal(row.channel, 'email');
  assert.deepEqual(row.metadata, { orderId: 7 });
  assert.equal(await countRows(h.db, 'outbox'), 1);

  // The same text again without a key: the REST content dedup, with the original's id.
  const dup = await gql(h.url, SEND, { input: { ...email, priority: 'HIGH', correlationId: 'gql-1', metadata: { orderId: 7 } } });
  assert.equal(dup.errors?.[0]?.extensions?.code, 'DUPLICATE_MESSAGE');
  assert.equal(dup.errors?.[0]?.extensions?.status, 409);
  assert.equal(dup.errors?.[0]?.extensions?.duplicateOf, payload.id);
  assert.equal(dup.data, null);

  // Idempotency key as argument; then as the header; replays answer the original.
  const key = `order-${randomUUID()}`;
  const a = await gql(h.url, SEND, { input: { ...email, body: 'keyed' }, key });
  const b = await gql(h.url, SEND, { input: { ...email, body: 'keyed' } }, { ...AUTH, 'idempotency-key': key });
  const [pa, pb] = [a.data?.sendMessage as { id: string; replayed: boolean }, b.data?.sendMessage as { id: string; replayed: boolean }];
  assert.equal(pb.id, pa.id);
  assert.equal(pb.replayed, true);
  const reused = await gql(h.url, SEND, { input: { ...email, body: 'other text' }, key });
  assert.equal(reused.errors?.[0]?.extensions?.code, 'IDEMPOTENCY_KEY_REUSED');
  const badKey = await gql(h.url, SEND, { input: email, key: 'x'.repeat(300) });
  assert.equal(badKey.errors?.[0]?.extensions?.code, 'IDEMPOTENCY_KEY_INVALID');

  // Joi validation with every invalid field, as REST's 400.
  const invalid = await gql(h.url, SEND, { input: { channel: 'SMS', to: 'not-a-number', subject: 'no subject on sms', body: '' } });
  assert.equal(invalid.errors?.[0]?.extensions?.code, 'VALIDATION_FAILED');
  assert.equal(invalid.errors?.[0]?.extensions?.status, 400);
  const fields = (invalid.errors?.[0]?.extensions?.errors as Array<{ field: string }>).map((e) => e.field).sort();
  assert.deepEqual(fields, ['body', 'subject', 'to']);
  assert.equal(await countRows(h.db, 'messages'), 2, 'only the two accepted messages exist');
});

test('the recipient limit answers RATE_LIMITED with retryAfterSeconds', async (t) => {
  const h = await startRouter(t, { brokers: brokers(), settings: { rateLimitPerMinute: 1 } });
  assert.ok((await gql(h.url, SEND, { input: { ...email, body: 'one' } })).data?.sendMessage);
  const limited = await gql(h.url, SEND, { input: { ...email, body: 'two' } });
  assert.equal(limited.errors?.[0]?.extensions?.code, 'RATE_LIMITED');
  assert.equal(limited.errors?.[0]?.extensions?.status, 429);
  assert.ok(Number(limited.errors?.[0]?.extensions?.retryAfterSeconds) >= 1);
});

test('message(id) and messages: own messages only; another merchant gets null + MESSAGE_NOT_FOUND and an empty page', async (t) => {
  // No delivery-service: message(id) must still answer from the router row (delivery has no record → pending).
  const fetch404: typeof fetch = async () => new Response(null, { status: 404 });
  const h = await startRouter(t, { brokers: brokers(), fetch: fetch404 });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push(((await gql(h.url, SEND, { input: { ...email, body: `n${i}`, correlationId: 'c-9' } })).data?.sendMessage as { id: string }).id);

  const one = await gql(h.url, MESSAGE, { id: ids[0] });
  assert.deepEqual(one.errors, undefined);
  const node = one.data?.message as Record<string, unknown>;
  assert.equal(node.id, ids[0]);
  assert.equal(node.channel, 'EMAIL');
  assert.equal(node.status, 'PENDING');
  assert.equal(node.to, 'j***e@example.com');
  assert.deepEqual(node.attempts, []);

  const pages: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await gql(h.url, MESSAGES, { filter: { channel: 'EMAIL', correlationId: 'c-9' }, first: 2, after });
    const conn = page.data?.messages as { edges: Array<{ cursor: string; node: { id: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
    pages.push(...conn.edges.map((e) => e.node.id));
    if (!conn.pageInfo.hasNextPage) break;
    after = conn.pageInfo.endCursor;
  }
  assert.deepEqual([...pages].sort(), [...ids].sort());

  const other = await testMerchant(h.db);
  const theirs = await gql(h.url, MESSAGE, { id: ids[0] }, other.headers);
  assert.equal(theirs.data?.message, null);
  assert.equal(theirs.errors?.[0]?.extensions?.code, 'MESSAGE_NOT_FOUND');
  assert.equal(theirs.errors?.[0]?.extensions?.status, 404);
  const theirPage = await gql(h.url, MESSAGES, {}, other.headers);
  assert.deepEqual((theirPage.data?.messages as { edges: unknown[] }).edges, []);

  const badArgs = await gql(h.url, MESSAGES, { first: 500, after: 'garbage!' });
  assert.equal(badArgs.errors?.[0]?.extensions?.code, 'VALIDATION_FAILED');
  assert.deepEqual((badArgs.errors?.[0]?.extensions?.errors as Array<{ field: string }>).map((e) => e.field).sort(), ['after', 'first']);
  const badId = await gql(h.url, MESSAGE, { id: 'nope' });
  assert.equal(badId.errors?.[0]?.extensions?.code, 'VALIDATION_FAILED');
});

test('refused documents never execute: syntax error, too deep, two sends, mutation over GET, unknown field', async (t) => {
  const h = await startRouter(t, { brokers: brokers(), settings: { graphqlLimits: { maxDepth: 3, maxCost: 1000 } } });

  const syntax = await gql(h.url, 'mutation { sendMessage(input: { channel: EMAIL ');
  assert.equal(syntax.status, 400);
  assert.match(syntax.contentType, /application\/graphql-response\+json/);
  assert.equal(syntax.errors?.[0]?.extensions?.code, 'GRAPHQL_PARSE_FAILED');

  const deep = await gql(h.url, '{ messages { edges { node { attempts { n } } } } }');
  assert.equal(deep.status, 400);
  assert.equal(deep.errors?.[0]?.extensions?.code, 'QUERY_TOO_DEEP');
  assert.equal(deep.data, undefined);

  const twoSends = await gql(h.url, `mutation { a: sendMessage(input: { channel: EMAIL, to: "a@example.com", subject: "s", body: "1" }) { id }
    b: sendMessage(input: { channel: EMAIL, to: "b@example.com", subject: "s", body: "2" }) { id } }`);
  assert.equal(twoSends.status, 400);
  assert.equal(twoSends.errors?.[0]?.extensions?.code, 'ONE_SEND_PER_REQUEST');

  const unknown = await gql(h.url, '{ messages { recipientInClear } }');
  assert.equal(unknown.status, 400);
  assert.equal(unknown.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');

  const overGet = await fetch(`${h.url}/graphql?query=${encodeURIComponent('mutation { sendMessage(input: { channel: EMAIL, to: "a@example.com", subject: "s", body: "1" }) { id } }')}`, { headers: { ...AUTH, accept: GQL_ACCEPT } });
  assert.equal(overGet.status, 405);
  await overGet.body?.cancel();

  // A query over GET works (read scope).
  const getQuery = await fetch(`${h.url}/graphql?query=${encodeURIComponent('{ messages(first: 1) { pageInfo { hasNextPage } } }')}`, { headers: { ...AUTH, accept: GQL_ACCEPT } });
  assert.equal(getQuery.status, 200);
  assert.deepEqual(await getQuery.json(), { data: { messages: { pageInfo: { hasNextPage: false } } } });

  assert.equal(await countRows(h.db, 'messages'), 0, 'nothing was accepted');
  assert.equal(await countRows(h.db, 'outbox'), 0);
});

test('same auth and API rate limit as REST: 401 without a key, INSUFFICIENT_SCOPE per field, 429 with RateLimit headers', async (t) => {
  const h = await startRouter(t, { brokers: brokers(), settings: { apiRateLimit: { burst: 2, perSecond: 0.01 } } });
  const none = await gql(h.url, '{ messages { pageInfo { hasNextPage } } }', {}, {});
  assert.equal(none.status, 401);
  assert.match(none.contentType, /application\/problem\+json/);

  const readOnly = await testMerchant(h.db, ['read']);
  const refused = await gql(h.url, SEND, { input: email }, readOnly.headers);
  assert.equal(refused.errors?.[0]?.extensions?.code, 'INSUFFICIENT_SCOPE');
  assert.equal(refused.errors?.[0]?.extensions?.status, 403);
  assert.equal(await countRows(h.db, 'messages'), 0);

  const ok = await gql(h.url, '{ messages { pageInfo { hasNextPage } } }', {}, readOnly.headers);
  assert.equal(ok.status, 200);
  const limited = await fetch(`${h.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...readOnly.headers }, body: JSON.stringify({ query: '{ __typename }' }) });
  assert.equal(limited.status, 429);
  assert.ok(limited.headers.get('retry-after'));
  assert.ok(limited.headers.get('ratelimit-policy'));
  await limited.body?.cancel();
});

test('sendNotification takes the POST /v1/notifications path: user, template, strict params, idempotency, undeliverable reasons', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  assert.equal((await putUser(h.url, 'user-42', USER_42)).status, 201);
  assert.equal((await postTemplate(h.url, 'ORDER_SHIPPED', ORDER_SHIPPED)).status, 201);
  const seed = { userId: 'user-42', type: 'SMS', templateId: 'ORDER_SHIPPED', templateParams: { orderId: 'ABC123', itemName: 'Laptop' }, priority: 'HIGH', correlationId: 'order-ABC123' };

  const key = `n-${randomUUID()}`;
  const sent = await gql(h.url, NOTIFY, { input: seed, key });
  assert.equal(sent.status, 200, sent.raw);
  const payload = sent.data?.sendNotification as { notificationId: string; status: string; replayed: boolean; deferredUntil: string | null };
  assert.equal(payload.status, 'PENDING');
  assert.equal(payload.replayed, false);
  assert.equal(payload.deferredUntil, null);
  const row = await h.db('messages').where({ id: payload.notificationId }).first();
  assert.deepEqual([row.channel, row.recipient, row.priority, row.user_id, row.template_id, row.body], ['sms', '+14155550100', 'high', 'user-42', 'ORDER_SHIPPED', 'Order ABC123 shipped: Laptop']);
  assert.equal(await countRows(h.db, 'outbox'), 1);

  const replay = await gql(h.url, NOTIFY, { input: seed }, { ...AUTH, 'idempotency-key': key });
  assert.deepEqual(replay.data?.sendNotification, { ...payload, replayed: true });

  const missing = await gql(h.url, NOTIFY, { input: { ...seed, templateParams: { orderId: 'X' } } });
  assert.equal(missing.errors?.[0]?.extensions?.code, 'TEMPLATE_PARAMS_MISSING');
  assert.equal(missing.errors?.[0]?.extensions?.status, 400);
  assert.deepEqual(missing.errors?.[0]?.extensions?.missing, ['itemName']);
  const unknown = await gql(h.url, NOTIFY, { input: { ...seed, userId: 'nobody' } });
  assert.equal(unknown.errors?.[0]?.extensions?.code, 'NOTIFICATION_UNDELIVERABLE');
  assert.equal(unknown.errors?.[0]?.extensions?.reason, 'unknown_user');
  const badType = await gql(h.url, NOTIFY, { input: { ...seed, type: 'FAX' } });
  assert.equal(badType.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED', 'a variable the schema refuses: nothing runs');
  assert.equal(badType.data, undefined);

  const readOnly = await testMerchant(h.db, ['read']);
  assert.equal((await gql(h.url, NOTIFY, { input: seed }, readOnly.headers)).errors?.[0]?.extensions?.code, 'INSUFFICIENT_SCOPE');
  const both = await gql(h.url, `mutation { sendMessage(input: { channel: EMAIL, to: "a@example.com", subject: "s", body: "1" }) { id }
    sendNotification(input: { userId: "user-42", type: SMS, templateId: "ORDER_SHIPPED", templateParams: { orderId: "1", itemName: "2" } }) { notificationId } }`);
  assert.equal(both.status, 400);
  assert.equal(both.errors?.[0]?.extensions?.code, 'ONE_SEND_PER_REQUEST');
  assert.equal(await countRows(h.db, 'messages'), 1, 'only the first notification was accepted');
});

test('cancelMessage cancels a scheduled message (again: the same answer); another merchant\'s id is MESSAGE_NOT_FOUND', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const sendAt = new Date(Date.now() + 300_000).toISOString();
  const sent = await gql(h.url, SEND, { input: { ...email, body: 'later', sendAt } });
  const { id, status } = sent.data?.sendMessage as { id: string; status: string };
  assert.equal(status, 'SCHEDULED');

  const canceled = await gql(h.url, CANCEL, { id });
  assert.deepEqual(canceled.errors, undefined, canceled.raw);
  const first = canceled.data?.cancelMessage as { id: string; status: string; canceledAt: string };
  assert.deepEqual([first.id, first.status], [id, 'CANCELED']);
  assert.equal(await countRows(h.db, 'outbox'), 0, 'the scheduled record never reaches Kafka');
  assert.deepEqual((await gql(h.url, CANCEL, { id })).data?.cancelMessage, first);
  const listed = await gql(h.url, MESSAGES, { filter: { status: 'CANCELED' } });
  assert.deepEqual((listed.data?.messages as { edges: Array<{ node: { id: string } }> }).edges.map((e) => e.node.id), [id]);

  const other = await testMerchant(h.db);
  const theirs = await gql(h.url, CANCEL, { id }, other.headers);
  assert.equal(theirs.errors?.[0]?.extensions?.code, 'MESSAGE_NOT_FOUND');
  assert.equal(theirs.data, null);
  assert.equal((await gql(h.url, CANCEL, { id: 'nope' })).errors?.[0]?.extensions?.code, 'VALIDATION_FAILED');
});
