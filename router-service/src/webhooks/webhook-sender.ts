import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import type { Consumer, Kafka } from 'kafkajs';
import type { Knex } from 'knex';
import { ATTR, SPAN, parseWebhookDeliverRecord, routerWebhookGroupId, type Topics, type WebhookDeliverRecord } from '@ca/contracts';
import { backgroundConsumer, headersToRecord, type BackgroundConsumer } from '@ca/kafka';
import { enqueue } from '@ca/outbox';
import { contextFromHeaders, currentTraceHeaders, tracer, withoutAutoSpans, type Logger } from '@ca/telemetry';
import { DestinationRefused, guardedLookup, refusalFor, type DestinationPolicy } from './ssrf';
import { webhookHeaders } from './signing';
import { deliverRow, getEndpoint } from './webhook-store';

export interface WebhookSettings extends DestinationPolicy {
  /** One POST may take this long (connect to last byte). */
  timeoutMs: number;
  /** Retry n waits about min(maxMs, baseMs · 2^(n-1)), with equal jitter. */
  backoff: { baseMs: number; maxMs: number };
  /** An endpoint failing without a success for this long is disabled; an event is retried at most twice this long. */
  disableAfterMs: number;
}

export interface WebhookSenderDeps {
  kafka: Kafka;
  db: Knex;
  topics: Topics;
  topicPrefix: string;
  logger: Logger;
  clock: { now(): Date };
  random: () => number;
  settings: WebhookSettings;
  /** A retry was enqueued: wake the outbox relay. */
  onEnqueued(): void;
}

export type WebhookSender = BackgroundConsumer;

type PostResult = { statusCode: number | null; error: string | null; refused: boolean };

const RETRY_JOIN_MS = 5_000;
const MAX_ERROR = 500;

/** Exponential backoff with equal jitter: half the step fixed, half drawn. */
export function webhookBackoffMs(backoff: WebhookSettings['backoff'], attempt: number, random: () => number): number {
  const step = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * Sends merchant webhooks: consumes webhook.deliver (group router.webhooks), POSTs each event to
 * its endpoint signed as Standard Webhooks says, logs the try, and on failure re-enqueues it through
 * the outbox with not_before = the backoff, in the transaction that logs it. An endpoint that has
 * failed without a success for disableAfterMs is disabled (its pending events are abandoned). The
 * destination is checked against the SSRF policy again at send time, at connect (ssrf.ts).
 * Each POST is a CLIENT span in the message's trace (the record carries its trace context).
 */
export function createWebhookSender(deps: WebhookSenderDeps): WebhookSender {
  const { settings } = deps;

  function post(url: URL, headers: Record<string, string>, body: string): Promise<PostResult> {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      // An address literal is never looked up, so the connect-time check below would not see it.
      const refused = refusalFor(settings, host, host);
      if (refused) return Promise.resolve({ statusCode: null, error: `destination refused: ${refused}`, refused: true });
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const req = send(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'communication-aggregator-webhooks/1', ...headers },
        lookup: guardedLookup(settings),
        timeout: settings.timeoutMs,
        signal: AbortSignal.timeout(settings.timeoutMs),
      }, (res) => {
        res.resume(); // the answer's body is not read, only its status
        res.on('end', () => resolve({ statusCode: res.statusCode ?? null, error: null, refused: false }));
        res.on('error', (err) => resolve({ statusCode: res.statusCode ?? null, error: err.message, refused: false }));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${settings.timeoutMs} ms`)));
      req.on('error', (err) => {
        const refused = err instanceof DestinationRefused;
        resolve({ statusCode: null, error: refused ? `destination refused: ${err.message}` : err.message, refused });
      });
      req.end(body);
    });
  }

  async function deliver(record: WebhookDeliverRecord, kafkaHeaders: Record<string, string>): Promise<void> {
    const endpoint = await getEndpoint(deps.db, record.tenantId, record.endpointId);
    if (!endpoint) return; // deleted: its log went with it
    const now = deps.clock.now();
    if (endpoint.disabled) {
      await deps.db('webhook_deliveries').insert(logRow(record, 'abandoned', null, 0, 'endpoint disabled', now));
      return;
    }
    const url = new URL(endpoint.url);
    const secret = endpoint.secret;
    await tracer.startActiveSpan(SPAN.webhookDeliver, {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': 'POST', 'url.full': `${url.origin}${url.pathname}`, 'server.address': url.hostname, ...(url.port ? { 'server.port': Number(url.port) } : {}),
        [ATTR.messageId]: record.messageId, [ATTR.tenantId]: record.tenantId, [ATTR.webhookEndpointId]: record.endpointId,
        [ATTR.webhookEventType]: record.type, [ATTR.webhookAttempt]: record.attempt,
      },
    }, contextFromHeaders(kafkaHeaders), async (span) => {
      try {
        await attemptPost(span);
      } finally {
        span.end();
      }
    });

    async function attemptPost(span: Span): Promise<void> {
      const started = Date.now();
      // This span is the POST's CLIENT span; the http instrumentation's own would record url.full with
      // the query (a merchant may put a token there), so it is suppressed and the trace context sent
      // by hand: the receiver can still join the message's trace.
      const headers = { ...webhookHeaders(secret, record.webhookId, deps.clock.now(), record.body), ...currentTraceHeaders() };
      const result = await withoutAutoSpans(() => post(url, headers, record.body));
      const durationMs = Date.now() - started;
      const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
      if (result.statusCode !== null) span.setAttribute('http.response.status_code', result.statusCode);
      if (!ok) span.setStatus({ code: SpanStatusCode.ERROR, message: result.error ?? `HTTP ${result.statusCode}` });
      const error = ok ? null : (result.error ?? `HTTP ${result.statusCode}`).slice(0, MAX_ERROR);
      const at = deps.clock.now();
      let retried = false;
      await deps.db.transaction(async (trx) => {
        await trx('webhook_deliveries').insert(logRow(record, ok ? 'delivered' : result.refused ? 'refused' : 'failed', result.statusCode, durationMs, error, at));
        if (ok) {
          await trx('webhook_endpoints').where({ tenant_id: record.tenantId, id: record.endpointId }).update({ failing_since: null });
          return;
        }
        const [row] = await trx('webhook_endpoints').where({ tenant_id: record.tenantId, id: record.endpointId })
          .update({ failing_since: trx.raw('coalesce(failing_since, ?)', [at]) }).returning(['failing_since', 'disabled_at']);
        if (!row || row.disabled_at) return;
        const failingForMs = at.getTime() - new Date(row.failing_since as Date).getTime();
        if (failingForMs >= settings.disableAfterMs) {
          await trx('webhook_endpoints').where({ tenant_id: record.tenantId, id: record.endpointId })
            .update({ disabled_at: at, disabled_reason: `failing since ${new Date(row.failing_since as Date).toISOString()} (last: ${error})`.slice(0, MAX_ERROR) });
          deps.logger.warn('webhook endpoint disabled after failing for the whole failure period', { endpointId: record.endpointId, tenantId: record.tenantId });
          return;
        }
        // An endpoint failing throughout is disabled above first; one that flaps gives up an event after twice the period.
        if (at.getTime() - Date.parse(record.firstEnqueuedAt) >= 2 * settings.disableAfterMs) return;
        const dueAt = new Date(at.getTime() + webhookBackoffMs(settings.backoff, record.attempt, deps.random));
        await enqueue(trx, [deliverRow(deps.topics, { ...record, attempt: record.attempt + 1 }, currentTraceHeaders(), dueAt)], at);
        retried = true;
      });
      if (retried) deps.onEnqueued();
    }
  }

  async function run(c: Consumer): Promise<void> {
    await c.connect();
    await c.subscribe({ topics: [deps.topics.webhookDeliver], fromBeginning: true });
    await c.run({
      partitionsConsumedConcurrently: 3,
      eachMessage: async ({ message, partition }) => {
        const record = parseWebhookDeliverRecord(message.value?.toString('utf8') ?? '');
        if (!record) {
          deps.logger.warn('malformed webhook record skipped', { partition, offset: message.offset });
          return;
        }
        await deliver(record, headersToRecord(message.headers));
      },
    });
  }

  return backgroundConsumer({
    what: 'webhook sender',
    retryMs: RETRY_JOIN_MS,
    logger: deps.logger,
    create: () => deps.kafka.consumer({ groupId: routerWebhookGroupId(deps.topicPrefix), allowAutoTopicCreation: true, maxWaitTimeInMs: 500 }),
    run,
  });
}

function logRow(record: WebhookDeliverRecord, outcome: string, statusCode: number | null, durationMs: number, error: string | null, at: Date) {
  return {
    tenant_id: record.tenantId, endpoint_id: record.endpointId, webhook_id: record.webhookId, event_type: record.type, message_id: record.messageId,
    attempt: record.attempt, outcome, status_code: statusCode, duration_ms: durationMs, error, at,
  };
}
