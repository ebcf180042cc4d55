import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quietHoursEnd } from '../../src/notifications/quiet-hours';
import { quietHoursSchema } from '../../src/templates/template-schema';

const NIGHT = { start: '21:00', end: '08:00' };
const end = (at: string, timeZone: string, window = NIGHT) => quietHoursEnd(new Date(at), window, timeZone)?.toISOString() ?? null;

test('a window crossing midnight: the evening side ends the next morning, the morning side the same morning; start inclusive, end exclusive', () => {
  assert.equal(end('2030-01-01T20:00:00Z', 'Europe/Berlin'), '2030-01-02T07:00:00.000Z', '21:00 CET is inside');
  assert.equal(end('2030-01-01T22:59:59Z', 'Europe/Berlin'), '2030-01-02T07:00:00.000Z', '23:59:59 CET');
  assert.equal(end('2030-01-01T23:00:00Z', 'Europe/Berlin'), '2030-01-02T07:00:00.000Z', '00:00 CET, the next day');
  assert.equal(end('2030-01-01T06:59:59Z', 'Europe/Berlin'), '2030-01-01T07:00:00.000Z', '07:59:59 CET');
  assert.equal(end('2030-01-01T07:00:00Z', 'Europe/Berlin'), null, '08:00 CET is outside');
  assert.equal(end('2030-01-01T19:59:59Z', 'Europe/Berlin'), null, '20:59:59 CET is outside');
  assert.equal(end('2030-01-01T20:00:00Z', 'UTC'), null, 'the same instant is 20:00 in UTC');
});

test('a daytime window and a half-hour zone', () => {
  const lunch = { start: '12:00', end: '14:00' };
  assert.equal(end('2030-01-01T07:00:00Z', 'Asia/Kolkata', lunch), '2030-01-01T08:30:00.000Z', '12:30 IST → 14:00 IST');
  assert.equal(end('2030-01-01T20:00:00Z', 'Asia/Kolkata', lunch), null);
});

test('DST transition days: the end is the wall time after the change, not the accept-time offset', () => {
  // New York springs forward at 02:00 on 2030-03-10: 01:00 EST (UTC-5) → 08:00 EDT (UTC-4) = 12:00Z, not 13:00Z.
  assert.equal(end('2030-03-10T06:00:00Z', 'America/New_York'), '2030-03-10T12:00:00.000Z');
  assert.equal(end('2030-03-10T03:00:00Z', 'America/New_York'), '2030-03-10T12:00:00.000Z', '22:00 EST the evening before');
  // It falls back on 2030-11-03: 22:00 EDT the evening before → 08:00 EST = 13:00Z.
  assert.equal(end('2030-11-03T02:00:00Z', 'America/New_York'), '2030-11-03T13:00:00.000Z');
  // An end inside Berlin's spring gap (02:00–03:00 does not exist on 2030-03-31) moves on by the gap: 03:30 CEST.
  assert.equal(end('2030-03-31T00:30:00Z', 'Europe/Berlin', { start: '01:00', end: '02:30' }), '2030-03-31T01:30:00.000Z');
  // An end in the repeated autumn hour (02:00–03:00 twice on 2030-10-27): the next 02:30 after the instant.
  assert.equal(end('2030-10-27T00:10:00Z', 'Europe/Berlin', { start: '22:00', end: '02:30' }), '2030-10-27T00:30:00.000Z', '02:10 CEST → 02:30 CEST');
  assert.equal(end('2030-10-27T01:10:00Z', 'Europe/Berlin', { start: '22:00', end: '02:30' }), '2030-10-27T01:30:00.000Z', '02:10 CET → 02:30 CET');
});

test('the template option: HH:MM, start and end differ, nothing else', () => {
  assert.equal(quietHoursSchema.validate(NIGHT).error, undefined);
  assert.match(quietHoursSchema.validate({ start: '9:00', end: '08:00' }).error?.message ?? '', /HH:MM/);
  assert.match(quietHoursSchema.validate({ start: '24:00', end: '08:00' }).error?.message ?? '', /HH:MM/);
  assert.match(quietHoursSchema.validate({ start: '08:00', end: '08:00' }).error?.message ?? '', /must differ/);
  assert.ok(quietHoursSchema.validate({ start: '21:00' }).error);
  assert.ok(quietHoursSchema.validate({ ...NIGHT, zone: 'UTC' }).error);
});
