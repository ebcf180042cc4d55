import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { Kafka, logLevel } from 'kafkajs';
import { Pool } from 'pg';
import { startSystem, waitFor } from '@ca/testing';

/**
 * Issue 9 item 6 on the whole system as `npm start` runs it: a scheduled message survives a restart
 * of every service and is sent within 1 s of sendAt; cancel racing delivery through the public API
 * ends canceled with no provider call, or 409 with the status after the call — never both.
 */
let system: Awaited<ReturnType<typeof startSystem>>;
let db: Pool;
let startupMs = 0;
const prefix = `sch.${randomUUID().slice(0, 8)}.`;

/** When the broker appended the send record of `id` (the relay's publish), from the record's timestamp. */
async function publishedAt(topic: string, id: string): Promise<Date | null> {
  const kafka = new Kafka({ clientId: 'sch-reader', brokers: (process.env.KAFKA_BROKERS ?? '').split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `sch-reader-${randomUUID()}`, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
  let at: Date | null = null;
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => { if (message.headers?.['x-message-id']?.toString() === id) at = new Date(Number(message.timestamp)); } });
  await waitFor('the send record', async () => at !== null, 15_000, 50).catch(() => undefined);
  await consumer.disconnect();
  return at;
}

before(async () => {
  const started = Date.now();
  // A loaded CI box answers internal calls slowly: give router → delivery calls room (default 2 s).
  system = await startSystem({ database: 'comm_aggregator_scheduling', env: { KAFKA_TOPIC_PREFIX: prefix, DELIVERY_TIMEOUT_MS: '5000', CANCEL_SETTLE_MS: '15000' } });
  startupMs = Date.now() - started;
  db = new Pool({ connectionString: `postgres://postgres@127.0.0.1:5432/${system.database}`, max: 5 });
});
after(async () => {
  await db?.end();
  await system?.stop();
});

const auth = () => ({ authorization: `Bearer ${system.apiKey}`, 'content-type': 'application/json' });

async function send(body: Record<string, unknown>) {
  const res = await fetch(`${system.urls.router}/v1/messages`, { method: 'POST', headers: auth(), body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { id: string; status: string } };
}

async function statusOf(id: string): Promise<string> {
  const res = await fetch(`${system.urls.router}/v1/messages/${id}`, { headers: auth() });
  return res.status === 200 ? ((await res.json()) as { status: string }).status : `http ${res.status}`;
}

/** `sent`, or `delivered` when provider-sim's receipt (on under npm start) has already come back: either way it was sent. */
async function wasSent(id: string): Promise<boolean> {
  return ['sent', 'delivered'].includes(await statusOf(id));
}

async function providerCalls(id: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM provider_sim.sim_provider_calls WHERE idempotency_key = $1', [id]);
  return Number(rows[0]!.n);
}

test('a scheduled message survives a restart of every service and is sent within 1 s of sendAt', async () => {
  // The message measured must come due after the restart, and how long a restart takes depends on
  // the box (a full npm test runs three files at once). So a ladder of messages is scheduled, from
  // 10 s + one first start ahead to 10 s + six; the first one still ahead once every service is
  // back is the one measured, the earlier ones must be sent anyway, the later ones are canceled.
  const scheduledAt = Date.now();
  const ladder = [1, 1.5, 2, 3, 4, 6].map((f) => new Date(scheduledAt + 10_000 + Math.round(f * startupMs)));
  const scheduled = [];
  for (const [i, at] of ladder.entries()) {
    const accepted = await send({ channel: 'sms', to: `+1415555018${i}`, body: `at ${at.toISOString()}`, sendAt: at.toISOString() });
    assert.equal(accepted.status, 202);
    assert.equal(accepted.body.status, 'scheduled');
    scheduled.push({ id: accepted.body.id, at });
  }
  // A second one comes due while every service is down: it must be sent after the start, not lost.
  const dueWhileDown = new Date(Date.now() + 3000);
  const missed = await send({ channel: 'email', to: 'down@example.com', subject: 's', body: 'due while down', sendAt: dueWhileDown.toISOString() });
  assert.equal(missed.status, 202);

  await system.restart(async () => {
    await waitFor('the second message to come due while the services are down', async () => Date.now() > dueWhileDown.getTime() + 500, 30_000, 100);
  });
  const backAt = Date.now();
  const measured = scheduled.find((m) => m.at.getTime() > backAt + 2000);
  assert.ok(measured, `the restart took ${Math.round((backAt - scheduledAt) / 1000)} s, past every scheduled time (first start ${startupMs} ms)`);
  const sendAt = measured.at;
  assert.equal(await statusOf(measured.id), 'scheduled');
  for (const later of scheduled.filter((m) => m.at > sendAt)) {
    const res = await fetch(`${system.urls.router}/v1/messages/${later.id}`, { method: 'DELETE', headers: auth() });
    assert.equal(res.status, 200, 'a scheduled message not yet due is canceled');
  }
  await waitFor('the message due during the downtime to be sent', () => wasSent(missed.body.id), 30_000, 100);
  for (const earlier of scheduled.filter((m) => m.at < sendAt)) {
    await waitFor(`the ladder message due at ${earlier.at.toISOString()} to be sent`, () => wasSent(earlier.id), 30_000, 100);
  }

  await waitFor('the scheduled message to be sent', () => wasSent(measured.id), sendAt.getTime() - Date.now() + 30_000, 50);
  const { rows } = await db.query<{ started_at: Date; finished_at: Date }>(
    `SELECT started_at, finished_at FROM delivery.attempts WHERE message_id = $1 AND outcome = 'sent'`, [measured.id]);
  const lateMs = rows[0]!.finished_at.getTime() - sendAt.getTime();
  const earlyMs = sendAt.getTime() - rows[0]!.started_at.getTime();
  const published = await publishedAt(`${prefix}send.sms`, measured.id);
  assert.ok(published, 'the send record is on its topic');
  const publishedMs = published.getTime() - sendAt.getTime();
  console.log(`# scheduled send: published ${publishedMs} ms, provider call started ${-earlyMs} ms, finished ${lateMs} ms after sendAt (load average ${loadavg()[0]!.toFixed(1)})`);
  assert.ok(publishedMs >= 0, `published ${-publishedMs} ms before sendAt`);
  assert.ok(earlyMs <= 0, `the provider was called ${-earlyMs} ms before sendAt`);
  // The schedule's own accuracy (router wakes at not_before and publishes): within 1 s of sendAt.
  assert.ok(publishedMs <= 1000, `published ${publishedMs} ms after sendAt`);
  // accept→sent against sendAt: 1 s on an idle machine (docs/performance.md); on a box shared with
  // other test runs the consumer's CPU share decides the rest, so the bound here is looser.
  assert.ok(lateMs <= 1000 * Math.max(1, Math.ceil(loadavg()[0]! / cpus().length)), `sent ${lateMs} ms after sendAt`);
});

test('cancel vs delivery through the API: canceled with no provider call, or 409 with sent — never both', async () => {
  const tally = { canceled: 0, refused: 0 };
  const rounds = Array.from({ length: 40 }, (_, i) => i);
  // Every message is due at the same instant; the cancels land from 100 ms before it to 290 ms
  // after: before the relay publishes, in Kafka, at the claim, during and after the provider call.
  const due = Date.now() + 3000;
  await Promise.all(rounds.map(async (i) => {
    const accepted = await send({ channel: 'sms', to: `+1415555${String(2000 + i)}`, body: `race ${i} ${randomUUID()}`, sendAt: new Date(due).toISOString() });
    assert.equal(accepted.status, 202);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - 100 + i * 10 - Date.now())));
    // 503 (delivery-service slow to answer) carries Retry-After: a client retries; cancel is idempotent.
    let res: Response;
    let body: { status: string; code?: string; messageStatus?: string };
    for (let attempt = 1; ; attempt++) {
      res = await fetch(`${system.urls.router}/v1/messages/${accepted.body.id}/cancel`, { method: 'POST', headers: auth() });
      body = (await res.json()) as { status: string; code?: string };
      if (res.status !== 503 || attempt === 20) break;
      await new Promise((resolve) => setTimeout(resolve, Number(res.headers.get('retry-after') ?? 1) * 1000));
    }
    if (res.status === 200) {
      assert.equal(body.status, 'canceled');
      tally.canceled++;
    } else {
      assert.equal(res.status, 409, JSON.stringify(body));
      assert.equal(body.code, 'MESSAGE_NOT_CANCELABLE');
      // `delivered` if provider-sim's receipt came back before the cancel did.
      assert.ok(['sent', 'delivered'].includes(body.messageStatus ?? ''), JSON.stringify(body));
      tally.refused++;
    }
    const id = accepted.body.id;
    if (res.status === 200) {
      // Nothing may reach the provider afterwards: the record is skipped when it is consumed.
      assert.equal(await statusOf(id), 'canceled');
      assert.equal(await providerCalls(id), 0, `message ${i}: canceled, yet the provider was called`);
    } else {
      assert.ok(['sent', 'delivered'].includes(await statusOf(id)));
      assert.equal(await providerCalls(id), 1);
    }
  }));
  console.log(`# cancel race: ${tally.canceled} canceled, ${tally.refused} refused after the provider call`);
  // Records of canceled messages are still consumed: make sure none was delivered late.
  await waitFor('the canceled records to be consumed', async () => {
    const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM router.outbox`);
    return Number(rows[0]!.n) === 0;
  }, 30_000, 100);
  const { rows } = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM delivery.messages m JOIN provider_sim.sim_provider_calls c ON c.idempotency_key = m.id::text WHERE m.status = 'canceled'`);
  assert.equal(Number(rows[0]!.n), 0);
});
