import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTenantRateLimit } from '../../src/auth/key-store';
import { useBroker } from '../support/kafka';
import { call, manualClock, startRouter, testDb, testMerchant } from '../support/router-harness';

const brokers = useBroker();
const UNKNOWN_ID = '00000000-0000-4000-8000-0000000000aa';
const limit = { apiRateLimit: { burst: 3, perSecond: 1 } };

test('token bucket per key: burst, then 429 with Retry-After; RateLimit-Policy/RateLimit on every response', async (t) => {
  const clock = manualClock();
  const h = await startRouter(t, { brokers: brokers(), clock, settings: limit });
  const m = await testMerchant(h.db, ['read']);
  const get = () => call(h.url, 'GET', `/v1/messages/${UNKNOWN_ID}`, m.headers);
  for (const left of [2, 1, 0]) {
    const res = await get();
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('ratelimit-policy'), '"per-key";q=3;w=3');
    assert.match(res.headers.get('ratelimit') ?? '', new RegExp(`^"per-key";r=${left};t=\\d+$`));
  }
  const limited = await get();
  assert.equal(limited.status, 429);
  assert.match(limited.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(limited.body.code, 'API_RATE_LIMITED');
  assert.equal(limited.headers.get('retry-after'), '1');
  assert.equal(limited.headers.get('ratelimit'), '"per-key";r=0;t=1');

  clock.advance(1); // one token back
  assert.equal((await get()).status, 404);
  assert.equal((await get()).status, 429);
  // Another key of the same router is untouched.
  const other = await testMerchant(h.db, ['read']);
  assert.equal((await call(h.url, 'GET', `/v1/messages/${UNKNOWN_ID}`, other.headers)).status, 404);
});

test('the bucket is shared by every router process, and a merchant override replaces the default', async (t) => {
  const clock = manualClock();
  const { db } = await testDb(t);
  const a = await startRouter(t, { brokers: brokers(), db, clock, settings: limit });
  const b = await startRouter(t, { brokers: brokers(), db, clock, settings: { ...limit, apiKeyCacheMs: 0 } });
  const m = await testMerchant(db, ['read']);
  const get = (url: string) => call(url, 'GET', `/v1/messages/${UNKNOWN_ID}`, m.headers);
  assert.equal((await get(a.url)).status, 404);
  assert.equal((await get(b.url)).status, 404);
  assert.equal((await get(a.url)).status, 404);
  assert.equal((await get(b.url)).status, 429);
  assert.equal((await get(a.url)).status, 429);

  await setTenantRateLimit(db, m.tenantId, { burst: 10, perSecond: 5 });
  clock.advance(10);
  const res = await get(b.url);
  assert.equal(res.status, 404);
  assert.equal(res.headers.get('ratelimit-policy'), '"per-key";q=10;w=2');
});

test('concurrent requests of one key never take more than the burst', async (t) => {
  const clock = manualClock();
  const h = await startRouter(t, { brokers: brokers(), clock, settings: { apiRateLimit: { burst: 10, perSecond: 0.001 } } });
  const m = await testMerchant(h.db, ['read']);
  const results = await Promise.all(Array.from({ length: 40 }, () => call(h.url, 'GET', `/v1/messages/${UNKNOWN_ID}`, m.headers)));
  assert.equal(results.filter((r) => r.status === 404).length, 10);
  assert.equal(results.filter((r) => r.status === 429).length, 30);
});
