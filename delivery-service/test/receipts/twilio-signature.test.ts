import { test } from 'node:test';
import assert from 'node:assert/strict';
import { twilioSignature, verifyTwilioSignature } from '../../src/receipts/twilio-signature';
import { mapTwilioStatus } from '../../src/receipts/receipt-routes';
import { checkSimSignature, signSimReceipt } from '../../src/receipts/sim-signature';

// The example of Twilio's "Validating requests" page (twilio.com/docs/usage/security), as quoted by
// Twilio's helper libraries' tests: Auth Token 12345, this URL and these parameters.
test('X-Twilio-Signature: the documented example vector', () => {
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const params = new URLSearchParams({ CallSid: 'CA1234567890ABCDE', Caller: '+12349013030', Digits: '1234', From: '+12349013030', To: '+18005551212' });
  assert.equal(twilioSignature('12345', url, params), '0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
  assert.deepEqual(verifyTwilioSignature([{ authToken: 'other' }, { authToken: '12345' }], '0/KCTR6DLpKmkAf8muzZqo1nDgQ=', url, params), { authToken: '12345' });
  assert.equal(verifyTwilioSignature([{ authToken: '12345' }], '0/KCTR6DLpKmkAf8muzZqo1nDgQ=', url.replace('foo=1', 'foo=2'), params), null, 'the query string is signed');
  params.set('Digits', '1235');
  assert.equal(verifyTwilioSignature([{ authToken: '12345' }], '0/KCTR6DLpKmkAf8muzZqo1nDgQ=', url, params), null, 'every parameter is signed');
  assert.equal(verifyTwilioSignature([{ authToken: '12345' }], undefined, url, params), null);
});

test('Twilio MessageStatus mapping: final statuses only, failed with an unusable-address code is a bounce', () => {
  assert.equal(mapTwilioStatus('delivered', null), 'delivered');
  assert.equal(mapTwilioStatus('undelivered', '30003'), 'undelivered');
  assert.equal(mapTwilioStatus('failed', '30001'), 'undelivered');
  assert.equal(mapTwilioStatus('failed', '30006'), 'bounced');
  for (const intermediate of ['queued', 'sending', 'sent', 'accepted']) assert.equal(mapTwilioStatus(intermediate, null), null);
});

test('X-Sim-Signature: signed body and timestamp, stale or altered refused', () => {
  const at = new Date('2030-01-01T00:00:00Z');
  const header = signSimReceipt('s'.repeat(32), '{"a":1}', at);
  assert.equal(checkSimSignature('s'.repeat(32), header, '{"a":1}', at), null);
  assert.match(checkSimSignature('s'.repeat(32), header, '{"a":2}', at) ?? '', /does not match/);
  assert.match(checkSimSignature('t'.repeat(32), header, '{"a":1}', at) ?? '', /does not match/);
  assert.match(checkSimSignature('s'.repeat(32), header, '{"a":1}', new Date(at.getTime() + 301_000)) ?? '', /tolerance/);
  assert.match(checkSimSignature('s'.repeat(32), undefined, '{"a":1}', at) ?? '', /missing/);
});
