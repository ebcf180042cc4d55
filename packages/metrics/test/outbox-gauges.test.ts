import test from 'node:test';
import assert from 'node:assert/strict';
import { observeOutbox, type OutboxBacklog } from '../src';
import { prometheusHarness, sample } from './support';

test('outbox gauges read the table at most once per interval, however often they are scraped', async (t) => {
  const h = await prometheusHarness();
  t.after(() => h.close());
  let now = 1_000_000;
  let reads = 0;
  let backlog: OutboxBacklog = { due: 3, scheduled: 7, oldestDueAgeSeconds: 12.5 };
  const gauges = observeOutbox({ meter: h.meter, minIntervalMs: 5_000, now: () => now, read: async () => { reads++; return backlog; } });
  t.after(() => gauges.close());

  const [a, b] = await Promise.all([h.scrape(), h.scrape()]);
  for (const text of [a, b]) {
    assert.equal(sample(text, 'ca_outbox_rows', { state: 'due' }), 3);
    assert.equal(sample(text, 'ca_outbox_rows', { state: 'scheduled' }), 7);
    assert.equal(sample(text, 'ca_outbox_oldest_due_age'), 12.5);
  }
  assert.equal(reads, 1, 'two concurrent scrapes share one read');

  backlog = { due: 0, scheduled: 1, oldestDueAgeSeconds: 0 };
  now += 4_999;
  assert.equal(sample(await h.scrape(), 'ca_outbox_rows', { state: 'due' }), 3, 'within the interval: the cached answer');
  assert.equal(reads, 1);
  now += 1;
  assert.equal(sample(await h.scrape(), 'ca_outbox_rows', { state: 'due' }), 0);
  assert.equal(reads, 2);
});

test('a failed outbox read leaves a gap and reports the error; the next scrape reads again', async (t) => {
  const h = await prometheusHarness();
  t.after(() => h.close());
  const errors: unknown[] = [];
  let fail = true;
  const gauges = observeOutbox({
    meter: h.meter, minIntervalMs: 0, onError: (err) => errors.push(err),
    read: async () => {
      if (fail) throw new Error('connection refused');
      return { due: 1, scheduled: 0, oldestDueAgeSeconds: 2 };
    },
  });
  t.after(() => gauges.close());
  const text = await h.scrape();
  assert.equal(sample(text, 'ca_outbox_rows'), undefined);
  assert.equal(errors.length, 1);
  fail = false;
  assert.equal(sample(await h.scrape(), 'ca_outbox_rows', { state: 'due' }), 1);
});
