import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBroker } from '../support/kafka';
import { countRows, manualClock, postMessage, SAMPLES, startRouter } from '../support/router-harness';

const brokers = useBroker();

test('more than the per-recipient limit in a minute is 429 with Retry-After and leaves no message behind', async (t) => {
  const clock = manualClock(new Date('2030-01-01T00:00:15Z'));
  const h = await startRouter(t, { brokers: brokers(), clock, settings: { rateLimitPerMinute: 3 } });
  for (let i = 0; i < 3; i++) assert.equal((await postMessage(h.url, { ...SAMPLES.sms, body: `m${i}` })).status, 202);

  const limited = await postMessage(h.url, { ...SAMPLES.sms, body: 'm3' });
  assert.equal(limited.status, 429);
  assert.match(limited.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(limited.body.code, 'RATE_LIMITED');
  assert.equal(limited.headers.get('retry-after'), '45');
  assert.equal(await countRows(h.db, 'messages'), 3);
  assert.equal(await countRows(h.db, 'outbox'), 3);

  // Other recipients and other channels have their own budget.
  assert.equal((await postMessage(h.url, { ...SAMPLES.sms, to: '+14155550199', body: 'm3' })).status, 202);
  assert.equal((await postMessage(h.url, { ...SAMPLES.whatsapp, to: SAMPLES.sms.to, body: 'm3' })).status, 202);

  clock.advance(45); // next window
  assert.equal((await postMessage(h.url, { ...SAMPLES.sms, body: 'm3' })).status, 202);
});

test('RATE_LIMIT_PER_RECIPIENT_PER_MINUTE=0 disables the limit', async (t) => {
  const h = await startRouter(t, { brokers: brokers(), settings: { rateLimitPerMinute: 0 } });
  const statuses = await Promise.all(Array.from({ length: 80 }, (_, i) => postMessage(h.url, { ...SAMPLES.sms, body: `m${i}` }).then((r) => r.status)));
  assert.deepEqual(new Set(statuses), new Set([202]));
});
