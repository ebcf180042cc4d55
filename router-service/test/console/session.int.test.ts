import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBroker } from '../support/kafka';
import { manualClock, startRouter, testMerchant, type RouterHarness } from '../support/router-harness';
import { createConsoleUser } from '../../src/console/user-store';
import { SESSION_COOKIE } from '../../src/console/session-auth';

const brokers = useBroker();
const PASSWORD = 'correct horse battery staple';

async function consoleUser(h: RouterHarness) {
  const merchant = await testMerchant(h.db);
  const email = `ops-${merchant.tenantId.slice(0, 8)}@Example.com`;
  await createConsoleUser(h.db, { tenantId: merchant.tenantId, email, password: PASSWORD, now: new Date() });
  return { ...merchant, email };
}

async function signIn(h: RouterHarness, email: string, password: string, origin = h.url) {
  const res = await fetch(`${h.url}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ email, password }) });
  const body = (await res.json()) as Record<string, unknown>;
  const cookie = res.headers.get('set-cookie');
  return { status: res.status, body, headers: res.headers, cookie: cookie?.split(';')[0] ?? null, setCookie: cookie };
}

test('sign-in: a session cookie (HttpOnly, Secure, SameSite=Strict, __Host-) that authenticates /v1 as the merchant; sign-out ends it', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const user = await consoleUser(h);
  const ok = await signIn(h, user.email.toUpperCase(), PASSWORD);
  assert.equal(ok.status, 200);
  assert.match(ok.setCookie ?? '', new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=\\d+$`));
  assert.equal((ok.body.merchant as { id: string }).id, user.tenantId);
  const csrf = ok.body.csrfToken as string;

  const keys = await fetch(`${h.url}/v1/keys`, { headers: { cookie: ok.cookie! } });
  assert.equal(keys.status, 200);
  const listed = (await keys.json()) as { keys: Array<{ id: string; tenantId: string }> };
  assert.deepEqual(listed.keys.map((k) => k.id), [user.keyId], 'only this merchant\'s keys');

  const create = (headers: Record<string, string>) => fetch(`${h.url}/v1/keys`, { method: 'POST', headers: { cookie: ok.cookie!, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ scopes: ['send'] }) });
  const noToken = await create({ origin: h.url });
  assert.equal(noToken.status, 403);
  assert.equal(((await noToken.json()) as { code: string }).code, 'CSRF_REJECTED');
  const foreign = await create({ origin: 'https://evil.example', 'x-csrf-token': csrf });
  assert.equal(foreign.status, 403);
  const noOrigin = await create({ 'x-csrf-token': csrf });
  assert.equal(noOrigin.status, 403);
  const good = await create({ origin: h.url, 'x-csrf-token': csrf });
  assert.equal(good.status, 201);

  const out = await fetch(`${h.url}/v1/session`, { method: 'DELETE', headers: { cookie: ok.cookie!, origin: h.url, 'x-csrf-token': csrf } });
  assert.equal(out.status, 204);
  assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
  assert.equal((await fetch(`${h.url}/v1/keys`, { headers: { cookie: ok.cookie! } })).status, 401);
});

test('sign-in failures: one answer for unknown email and wrong password; locked after 5 failures, doubling; a foreign origin cannot sign in', async (t) => {
  const clock = manualClock();
  const h = await startRouter(t, { brokers: brokers(), clock });
  const user = await consoleUser(h);
  const unknown = await signIn(h, 'nobody@example.com', PASSWORD);
  const wrong = await signIn(h, user.email, 'not the password');
  assert.equal(unknown.status, 401);
  assert.deepEqual(unknown.body, wrong.body);
  for (let i = 0; i < 3; i++) assert.equal((await signIn(h, user.email, `wrong ${i}`)).status, 401);
  const fifth = await signIn(h, user.email, 'wrong again');
  assert.equal(fifth.status, 429);
  assert.equal(fifth.body.code, 'SIGN_IN_LOCKED');
  assert.equal(fifth.headers.get('retry-after'), '30');
  // Locked: even the right password is refused until the lock ends.
  assert.equal((await signIn(h, user.email, PASSWORD)).status, 429);
  clock.advance(31);
  const sixth = await signIn(h, user.email, 'still wrong');
  assert.equal(sixth.headers.get('retry-after'), '60', 'each further failure doubles the lock');
  clock.advance(61);
  assert.equal((await signIn(h, user.email, PASSWORD, 'https://evil.example')).status, 403);
  assert.equal((await signIn(h, user.email, PASSWORD)).status, 200);
  // Success clears the count: one new failure is a plain 401 again.
  assert.equal((await signIn(h, user.email, 'wrong')).status, 401);
});

test('the console is served at /console/ with a strict Content-Security-Policy', async (t) => {
  const h = await startRouter(t, { brokers: brokers() });
  const res = await fetch(`${h.url}/console/`);
  assert.ok(res.status === 200 || res.status === 503, `status ${res.status}`);
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  if (res.status === 200) assert.doesNotMatch(await res.text(), /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
  const redirect = await fetch(`${h.url}/console`, { redirect: 'manual' });
  assert.equal(redirect.status, 301);
});
