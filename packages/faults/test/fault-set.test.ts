import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAULT, createFaults, parseFaults, validateFaultSet } from '../src';

test('FAULTS parses name=value pairs, converts the values and drops switched-off ones', () => {
  assert.deepEqual(parseFaults(''), {});
  assert.deepEqual(
    parseFaults(' provider.outage=0.5, provider.outage.sms=1,provider.latency_ms=2000 ,broker.publish_failure=0,postgres.latency_ms=25,logging.down'),
    { 'provider.outage': 0.5, 'provider.outage.sms': 1, 'provider.latency_ms': 2000, 'postgres.latency_ms': 25, 'logging.down': true },
  );
  assert.deepEqual(parseFaults('logging.down=false'), {});
});

test('FAULTS names every bad pair: unknown switch, share out of range, not a number, unknown channel', () => {
  assert.throws(() => parseFaults('provider.outtage=1,provider.outage=1.5,provider.latency_ms=soon,provider.outage.fax=1'), (err: Error) => {
    for (const bad of ['provider.outtage', 'provider.outage', 'provider.latency_ms', 'provider.outage.fax']) assert.match(err.message, new RegExp(`"${bad.replace(/\./g, '\\.')}"`));
    return true;
  });
});

test('the admin body is validated field by field; a body that is not an object is refused as a whole', () => {
  const bad = validateFaultSet({ 'provider.outage': -1, 'logging.down': 'sometimes', nonsense: 1 });
  assert.equal(bad.ok, false);
  assert.deepEqual(!bad.ok && bad.errors.map((e) => e.field).sort(), ['logging.down', 'nonsense', 'provider.outage']);
  for (const body of [undefined, [], 'provider.outage=1', 1]) assert.equal(validateFaultSet(body).ok, false, JSON.stringify(body));
  assert.deepEqual(validateFaultSet({}), { ok: true, value: {} });
});

test('a channel\'s own value overrides the plain one; shares roll against the injected random', () => {
  const faults = createFaults({ 'provider.outage': 0.25, 'provider.outage.sms': 1, 'logging.down': true });
  assert.equal(faults.value(FAULT.providerOutage, 'email'), 0.25);
  assert.equal(faults.value(FAULT.providerOutage, 'sms'), 1);
  assert.equal(faults.value(FAULT.providerLatency, 'sms'), 0);
  assert.equal(faults.rolls(FAULT.providerOutage, () => 0.2, 'email'), true);
  assert.equal(faults.rolls(FAULT.providerOutage, () => 0.3, 'email'), false);
  assert.equal(faults.rolls(FAULT.brokerPublishFailure, () => 0), false, 'off never rolls, even at random() = 0');
  assert.equal(faults.isOn(FAULT.loggingDown), true);
  faults.replace({ 'postgres.latency_ms': 10 });
  assert.deepEqual(faults.current(), { 'postgres.latency_ms': 10 }, 'replace: what is not named is off');
  faults.clear();
  assert.deepEqual(faults.current(), {});
});
