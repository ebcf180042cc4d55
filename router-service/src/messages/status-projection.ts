import type { Consumer, Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import { parseStatusEvent, routerStatusGroupId, type StatusEvent, type Topics } from '@ca/contracts';
import { backgroundConsumer, headersToRecord, type BackgroundConsumer } from '@ca/kafka';
import type { Logger } from '@ca/telemetry';
import { enqueueWebhookEvents, type AppliedStatus } from '../webhooks/webhook-store';

/**
 * Applies delivery-service's status events to the router's copy of each message's status (the
 * listing's filter and sort need it in this table). One statement per batch; the newest version per
 * message wins, and an event never overwrites a newer one (replays after a rebalance are harmless).
 * The tenant must match: an event cannot move another merchant's message. A canceled message stays
 * canceled (the cancel sets status itself, see cancel-message.ts).
 */
export async function applyStatusEvents(
  db: Knex,
  events: ReadonlyArray<StatusEvent & { traceHeaders?: Record<string, string> }>,
  webhooks?: { topics: Topics; now: Date },
): Promise<number> {
  if (events.length === 0) return 0;
  const values = events.map((e) => ({
    id: e.id, tenant_id: e.tenantId, status: e.status, version: e.version, attempts: e.deliveryAttempts, last_attempted_at: e.lastAttemptedAt, at: e.at,
  }));
  // The changes that took and, in the same transaction, one webhook.deliver record per subscribed
  // endpoint (docs/webhooks.md): a replayed or older event changes nothing, so announces nothing.
  return db.transaction(async (trx) => {
    const { rows } = await trx.raw<{ rows: Array<{ id: string; tenant_id: string; status: StatusEvent['status']; version: string; attempts: number; last_attempted_at: Date | null; at: Date }> }>(
      `UPDATE messages m SET status = v.status, status_version = v.version, delivery_attempts = v.attempts,
              last_attempted_at = coalesce(v.last_attempted_at, m.last_attempted_at), status_updated_at = v.at
         FROM (SELECT DISTINCT ON (id) * FROM jsonb_to_recordset(CAST(? AS jsonb))
                 AS x(id uuid, tenant_id uuid, status text, version bigint, attempts int, last_attempted_at timestamptz, at timestamptz)
               ORDER BY id, version DESC) v
        WHERE m.id = v.id AND (v.tenant_id IS NULL OR m.tenant_id = v.tenant_id) AND m.status_version < v.version AND m.canceled_at IS NULL
        RETURNING m.id, m.tenant_id, v.status, v.version, v.attempts, m.last_attempted_at, v.at`,
      [JSON.stringify(values)],
    );
    if (webhooks && rows.length > 0) {
      const applied: AppliedStatus[] = rows.map((r) => ({
        tenantId: r.tenant_id, messageId: r.id, status: r.status, deliveryAttempts: r.attempts,
        lastAttemptedAt: r.last_attempted_at ? new Date(r.last_attempted_at).toISOString() : null, at: new Date(r.at).toISOString(),
        traceHeaders: events.find((e) => e.id === r.id && e.version === Number(r.version))?.traceHeaders ?? {},
      }));
      await enqueueWebhookEvents(trx, webhooks.topics, applied, webhooks.now);
    }
    return rows.length;
  });
}

export interface StatusProjectionDeps {
  kafka: Kafka;
  db: Knex;
  topics: Topics;
  topicPrefix: string;
  logger: Logger;
  clock: { now(): Date };
  /** Called after a batch enqueued webhook deliveries (wakes the outbox relay). */
  onEnqueued?: () => void;
}

/** Joins the group in the background, retrying until it has joined or stop() is called. */
export type StatusProjection = BackgroundConsumer;

const RETRY_JOIN_MS = 5_000;

/**
 * The router's consumer of the status topic (group `router.status`, shared by every router
 * process). A batch is committed only after its statement commits (at-least-once; the version makes
 * it idempotent). A malformed event is logged and skipped: it could only leave one listing row's
 * status stale, and GET /v1/messages/:id reads the status live from delivery-service anyway.
 */
export function createStatusProjection(deps: StatusProjectionDeps): StatusProjection {

  async function run(c: Consumer): Promise<void> {
    await c.connect();
    await c.subscribe({ topics: [deps.topics.status], fromBeginning: true });
    await c.run({
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        const events: Array<StatusEvent & { traceHeaders: Record<string, string> }> = [];
        for (const m of batch.messages) {
          const event = parseStatusEvent(m.value?.toString('utf8') ?? '');
          if (event) events.push({ ...event, traceHeaders: headersToRecord(m.headers) });
          else deps.logger.warn('malformed status event skipped', { topic: batch.topic, partition: batch.partition, offset: m.offset });
        }
        if ((await applyStatusEvents(deps.db, events, { topics: deps.topics, now: deps.clock.now() })) > 0) deps.onEnqueued?.();
        const last = batch.messages.at(-1);
        if (last) resolveOffset(last.offset);
        await heartbeat();
      },
    });
  }

  return backgroundConsumer({
    what: 'status projection',
    retryMs: RETRY_JOIN_MS,
    logger: deps.logger,
    create: () => deps.kafka.consumer({ groupId: routerStatusGroupId(deps.topicPrefix), allowAutoTopicCreation: true, maxWaitTimeInMs: 500 }),
    run,
  });
}
