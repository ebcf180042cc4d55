import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDb } from '@ca/postgres';
import { testProducer, useBroker } from './support/kafka';
import { defer, manualClock, postMessage, SAMPLES, startRouter } from './support/router-harness';

const brokers = useBroker();
const DEAD = '127.0.0.1:1';

async function ready(url: string) {
  const res = await fetch(`${url}/ready`);
  return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, string> } };
}

test('/health is always 200; /ready fails once the oldest unpublished message is older than OUTBOX_STUCK_SECONDS', async (t) => {
  const clock = manualClock();
  // Kafka down: accepting still works, so the service stays ready until the outbox stops draining.
  const h = await startRouter(t, { brokers: DEAD, producer: testProducer(DEAD, { retries: 0 }), clock, settings: { outboxStuckSeconds: 60 } });
  assert.equal((await fetch(`${h.url}/health`)).status, 200);
  assert.equal((await ready(h.url)).status, 200);

  assert.equal((await postMessage(h.url, SAMPLES.email)).status, 202);
  clock.advance(30);
  assert.equal((await ready(h.url)).status, 200);
  clock.advance(31);
  const stuck = await ready(h.url);
  assert.equal(stuck.status, 503);
  assert.equal(stuck.body.checks.database, 'ok');
  assert.match(stuck.body.checks.outbox ?? '', /^failed: oldest unpublished message is 61 s old/);
});

test('/ready is 503 when PostgreSQL is unreachable; /health stays 200', async (t) => {
  const db = createDb({ url: `postgres://postgres@${DEAD}/nowhere`, schema: 'router' });
  defer(t, () => db.destroy());
  const h = await startRouter(t, { brokers: brokers(), db });
  assert.equal((await fetch(`${h.url}/health`)).status, 200);
  const res = await ready(h.url);
  assert.equal(res.status, 503);
  assert.match(res.body.checks.database ?? '', /^failed/);
});
