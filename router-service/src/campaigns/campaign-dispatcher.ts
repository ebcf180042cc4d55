import { randomBytes, randomUUID } from 'node:crypto';
import { ROOT_CONTEXT, isSpanContextValid, trace, type Span } from '@opentelemetry/api';
import type { Knex } from 'knex';
import { ATTR, HEADERS, LANE_ORDER, RECEIPT_STATUSES, SPAN, maskRecipient, recordKey, type Channel, type SendRecord, type Topics } from '@ca/contracts';
import { enqueue, type OutboxRecord } from '@ca/outbox';
import { currentTraceHeaders, tracer, type Logger } from '@ca/telemetry';
import type { Clock } from '../clock';
import { fetchDeliveryStatuses, type Fetch } from '../messages/delivery-client';
import { render } from './render';

export interface CampaignDispatcherDeps {
  db: Knex;
  clock: Clock;
  logger: Logger;
  topics: Topics;
  fetch: Fetch;
  settings: { batchSize: number; pollMs: number; deliveryUrl: string; deliveryTimeoutMs: number; serviceToken: string | null };
  /** Wakes the outbox relay after a batch was enqueued. */
  onEnqueued: () => void;
}

export interface CampaignDispatcher {
  start(): void;
  stop(): Promise<void>;
  kick(): void;
  /** One round (due campaigns started, one batch per running campaign, statuses refreshed); for tests. */
  runOnce(): Promise<{ enqueued: number; refreshed: number }>;
}

// A receipt may have moved a message past `sent` before the first refresh saw it (npm start turns
// provider-sim's receipts on): those are terminal here too, and count as sent.
const TERMINAL = new Set<string>(['sent', 'failed', 'dead_lettered', ...RECEIPT_STATUSES]);
const STATUS_BATCH = 1000;

interface QueuedRow {
  campaign_id: string;
  row_key: string;
  tenant_id: string;
  line: number;
  recipient: string;
  user_id: string | null;
  params: Record<string, string>;
}

/**
 * Turns campaign recipients into messages, a batch per transaction: the message rows, their outbox
 * rows (@ca/outbox enqueue) and the recipients' `enqueued` state commit together, so a crash
 * mid-batch leaves the batch queued and it is redone whole; a recipient is never enqueued twice
 * (SKIP LOCKED between dispatchers, state checked under the row lock). The campaign row is held
 * FOR SHARE meanwhile, so a cancel waits for the batch or the batch sees the cancel.
 *
 * Campaign messages go out on the LOW priority lane: a bulk send never delays a merchant's
 * transactional (medium/high) messages.
 *
 * It also keeps the campaign counts current: the delivery status of in-flight recipients is read
 * from delivery-service in batches and stored once terminal (a terminal status never changes).
 */
export function createCampaignDispatcher(deps: CampaignDispatcherDeps): CampaignDispatcher {
  const { db, clock, logger, settings } = deps;
  let timer: NodeJS.Timeout | null = null;
  let round: Promise<unknown> | null = null;
  let running = false;
  let lastRefresh = 0;

  async function startDue(now: Date): Promise<void> {
    await db('campaigns').where({ status: 'scheduled' }).andWhere('send_at', '<=', now).update({ status: 'running', started_at: now });
  }

  async function dispatchBatch(campaignId: string): Promise<number> {
    const spans: Span[] = [];
    const count = await db.transaction(async (trx) => {
      const campaign = await trx('campaigns').where({ id: campaignId, status: 'running' }).forShare()
        .first<{ id: string; tenant_id: string; channel: Channel; subject: string | null; body: string } | undefined>();
      if (!campaign) return 0;
      const rows = await trx('campaign_recipients').where({ campaign_id: campaignId, state: 'queued' }).orderBy('line')
        .limit(settings.batchSize).forUpdate().skipLocked().select<QueuedRow[]>('campaign_id', 'row_key', 'tenant_id', 'line', 'recipient', 'user_id', 'params');
      if (!rows.length) return 0;
      const now = clock.now();
      const messages: Array<Record<string, unknown>> = [];
      const records: OutboxRecord[] = [];
      const assigned: Array<{ rowKey: string; messageId: string }> = [];
      for (const row of rows) {
        const id = randomUUID();
        const subject = campaign.subject === null ? undefined : render(campaign.subject, row.params);
        const body = render(campaign.body, row.params);
        // Each message its own trace, rooted here, so its link shows that message's journey alone.
        const span = tracer.startSpan(SPAN.route, {
          root: true,
          attributes: {
            [ATTR.messageId]: id, [ATTR.channel]: campaign.channel, [ATTR.recipientMasked]: maskRecipient(campaign.channel, row.recipient),
            [ATTR.route]: deps.topics.lane(campaign.channel, 'low'), [ATTR.tenantId]: campaign.tenant_id, [ATTR.priority]: 'low',
          },
        });
        spans.push(span);
        const sc = span.spanContext();
        const traced = isSpanContextValid(sc);
        const traceId = traced ? sc.traceId : randomBytes(16).toString('hex');
        const metadata = { campaignId, campaignLine: row.line, ...(row.user_id ? { userId: row.user_id } : {}) };
        messages.push({
          id, tenant_id: campaign.tenant_id, channel: campaign.channel, recipient: row.recipient, subject: subject ?? null, body,
          priority: 'low', correlation_id: null, metadata: JSON.stringify(metadata), trace_id: traceId, idempotency_key: null, created_at: now,
        });
        const record: SendRecord = {
          v: 1, id, channel: campaign.channel, to: row.recipient, body, priority: 'low', metadata,
          createdAt: now.toISOString(), traceId, tenantId: campaign.tenant_id, ...(subject !== undefined ? { subject } : {}),
        };
        records.push({
          topic: deps.topics.lane(campaign.channel, 'low'), lane: LANE_ORDER.low, key: recordKey(campaign.channel, row.recipient), value: JSON.stringify(record),
          headers: { [HEADERS.messageId]: id, [HEADERS.channel]: campaign.channel, [HEADERS.attempt]: '1', [HEADERS.tenantId]: campaign.tenant_id },
          traceHeaders: traced ? currentTraceHeaders(trace.setSpan(ROOT_CONTEXT, span)) : null, traceId,
        });
        assigned.push({ rowKey: row.row_key, messageId: id });
      }
      await trx('messages').insert(messages);
      await enqueue(trx, records, now);
      await trx.raw(
        `UPDATE campaign_recipients r SET state = 'enqueued', message_id = v.message_id
           FROM (SELECT unnest(?::text[]) AS row_key, unnest(?::uuid[]) AS message_id) v
          WHERE r.campaign_id = ? AND r.row_key = v.row_key`,
        [assigned.map((a) => a.rowKey), assigned.map((a) => a.messageId), campaignId],
      );
      return rows.length;
    });
    for (const span of spans) span.end();
    if (count) {
      logger.info('campaign batch enqueued', { campaignId, messages: count });
      deps.onEnqueued();
    }
    return count;
  }

  async function refreshStatuses(): Promise<number> {
    const inFlight = await db('campaign_recipients').where({ state: 'enqueued' }).whereNull('delivery_status')
      .limit(STATUS_BATCH).select<Array<{ message_id: string }>>('message_id');
    if (!inFlight.length) return 0;
    const statuses = await fetchDeliveryStatuses({ fetch: deps.fetch, deliveryUrl: settings.deliveryUrl, timeoutMs: settings.deliveryTimeoutMs, serviceToken: settings.serviceToken }, inFlight.map((r) => r.message_id));
    const terminal = [...statuses].filter(([, status]) => TERMINAL.has(status));
    if (!terminal.length) return 0;
    await db.raw(
      `UPDATE campaign_recipients r SET delivery_status = v.status
         FROM (SELECT unnest(?::uuid[]) AS message_id, unnest(?::text[]) AS status) v
        WHERE r.message_id = v.message_id AND r.delivery_status IS NULL`,
      [terminal.map(([id]) => id), terminal.map(([, s]) => s)],
    );
    return terminal.length;
  }

  async function runOnce(): Promise<{ enqueued: number; refreshed: number }> {
    await startDue(clock.now());
    const campaigns = await db('campaign_recipients as r').join('campaigns as c', 'c.id', 'r.campaign_id')
      .where('c.status', 'running').andWhere('r.state', 'queued').distinct<Array<{ campaign_id: string }>>('r.campaign_id');
    let enqueued = 0;
    for (const { campaign_id: id } of campaigns) enqueued += await dispatchBatch(id);
    // Statuses at most once per poll interval: a fan-out of many batches does not ask delivery-service each batch.
    let refreshed = 0;
    if (enqueued === 0 || Date.now() - lastRefresh >= settings.pollMs) {
      lastRefresh = Date.now();
      try {
        refreshed = await refreshStatuses();
      } catch (err) {
        logger.debug('campaign statuses not refreshed', { error: (err as Error).message });
      }
    }
    return { enqueued, refreshed };
  }

  function schedule(ms: number): void {
    if (!running) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      round = runOnce().then(
        ({ enqueued }) => schedule(enqueued > 0 ? 0 : settings.pollMs),
        (err: unknown) => { logger.warn('campaign dispatch failed', { error: (err as Error).message }); schedule(settings.pollMs); },
      );
    }, ms);
  }

  return {
    start() {
      if (running) return;
      running = true;
      schedule(0);
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
      await round;
    },
    kick() {
      if (running && timer) schedule(0);
    },
    runOnce,
  };
}
