import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { freePort } from '@ca/testing';
import { createTwilioProvider } from '../../src/providers/twilio-provider';
import { createFcmProvider } from '../../src/providers/fcm-provider';
import { neverConnected } from '../../src/providers/network-errors';
import { startTwilioFake, TWILIO_INVALID_TO, TWILIO_RATE_LIMITED_TO } from './fakes/twilio-fake';
import { startFcmFake } from './fakes/fcm-fake';

const clock = { now: () => new Date() };
const signal = () => AbortSignal.timeout(5000);
const req = (channel: 'sms' | 'whatsapp' | 'push', to: string) => ({ idempotencyKey: randomUUID(), channel, to, subject: 'Hi', body: `body ${randomUUID()}` });

test('Twilio: SMS and WhatsApp are created with basic auth and form fields; the answer sid is the provider message id', async (t) => {
  const fake = await startTwilioFake();
  t.after(() => fake.close());
  const sms = createTwilioProvider('twilio-a', 'sms', { baseUrl: fake.url, accountSid: fake.accountSid, authToken: fake.authToken, from: '+15005550006' }, clock);
  const wa = createTwilioProvider('twilio-wa', 'whatsapp', { baseUrl: fake.url, accountSid: fake.accountSid, authToken: fake.authToken, from: '+15005550006' }, clock);
  const r1 = req('sms', '+14155550100');
  const a = await sms.send(r1, signal());
  assert.ok(a.ok && /^SM[0-9a-f]{32}$/.test(a.providerMessageId));
  const b = await wa.send(req('whatsapp', '+14155550101'), signal());
  assert.ok(b.ok);
  assert.deepEqual(fake.messages.map((m) => [m.to, m.from]), [['+14155550100', '+15005550006'], ['whatsapp:+14155550101', 'whatsapp:+15005550006']]);
  assert.equal(fake.messages[0]!.body, r1.body);
  assert.ok(fake.requests.every((r) => r.authorized));
});

test('Twilio: 21211 is a permanent bad recipient, 429/20429 is rate-limited with Retry-After and not accepted, a wrong token is permanent', async (t) => {
  const fake = await startTwilioFake();
  t.after(() => fake.close());
  const p = createTwilioProvider('twilio-a', 'sms', { baseUrl: fake.url, accountSid: fake.accountSid, authToken: fake.authToken, from: '+15005550006' }, clock);
  const invalid = await p.send(req('sms', TWILIO_INVALID_TO), signal());
  assert.deepEqual(invalid.ok ? null : { retryable: invalid.retryable, badRecipient: invalid.badRecipient, notAccepted: invalid.notAccepted, code: invalid.code }, { retryable: false, badRecipient: true, notAccepted: true, code: '21211' });
  const limited = await p.send(req('sms', TWILIO_RATE_LIMITED_TO), signal());
  assert.ok(!limited.ok);
  assert.equal(limited.retryAfterMs, 2000);
  assert.equal(limited.notAccepted, true);
  assert.equal(limited.code, '20429');
  const wrong = createTwilioProvider('twilio-b', 'sms', { baseUrl: fake.url, accountSid: fake.accountSid, authToken: 'wrong', from: '+15005550006' }, clock);
  const denied = await wrong.send(req('sms', '+14155550100'), signal());
  assert.ok(!denied.ok && !denied.retryable && denied.notAccepted && denied.code === '20003');
  assert.equal(fake.messages.length, 0);
});

test('FCM: a service-account JWT is exchanged for an access token (cached), then messages:send; error codes map to outcomes', async (t) => {
  const fake = await startFcmFake();
  t.after(() => fake.close());
  const p = createFcmProvider('fcm-main', { baseUrl: fake.url, projectId: fake.projectId, serviceAccount: { clientEmail: fake.clientEmail, privateKey: fake.privateKey, tokenUri: fake.tokenUri } }, clock);
  const ok1 = await p.send(req('push', 'device-token-1'), signal());
  const ok2 = await p.send(req('push', 'device-token-2'), signal());
  assert.ok(ok1.ok && ok1.providerMessageId.startsWith(`projects/${fake.projectId}/messages/`));
  assert.ok(ok2.ok);
  assert.equal(fake.tokenRequests, 1, 'the access token is reused until it nears expiry');
  assert.deepEqual(fake.delivered.map((d) => [d.token, d.title]), [['device-token-1', 'Hi'], ['device-token-2', 'Hi']]);

  const unregistered = await p.send(req('push', 'unregistered-abc'), signal());
  assert.ok(!unregistered.ok && !unregistered.retryable && unregistered.badRecipient && unregistered.code === 'UNREGISTERED');
  const quota = await p.send(req('push', 'quota-abc'), signal());
  assert.ok(!quota.ok && quota.retryable && quota.notAccepted && quota.retryAfterMs === 3000 && quota.code === 'QUOTA_EXCEEDED');
  const unavailable = await p.send(req('push', 'unavailable-abc'), signal());
  assert.ok(!unavailable.ok && unavailable.retryable && unavailable.notAccepted && unavailable.code === 'UNAVAILABLE');
});

test('FCM: a key the token endpoint rejects is a not-accepted transient failure (nothing reached FCM)', async (t) => {
  const fake = await startFcmFake();
  t.after(() => fake.close());
  const other = (await startFcmFake());
  t.after(() => other.close());
  const p = createFcmProvider('fcm-main', { baseUrl: fake.url, projectId: fake.projectId, serviceAccount: { clientEmail: fake.clientEmail, privateKey: other.privateKey, tokenUri: fake.tokenUri } }, clock);
  const r = await p.send(req('push', 'device-token-1'), signal());
  assert.ok(!r.ok && r.retryable && r.notAccepted);
  assert.equal(fake.delivered.length, 0);
});

test('a refused connection throws an error the dispatcher recognises as never connected', async () => {
  const port = await freePort();
  const p = createTwilioProvider('twilio-a', 'sms', { baseUrl: `http://127.0.0.1:${port}`, accountSid: `AC${'0'.repeat(32)}`, authToken: 'x', from: '+15005550006' }, clock);
  const err = await p.send(req('sms', '+14155550100'), signal()).then(() => null, (e: unknown) => e);
  assert.ok(err, 'the call throws');
  assert.equal(neverConnected(err), true);
});
