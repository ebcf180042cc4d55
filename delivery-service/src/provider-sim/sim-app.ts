import express from 'express';
import type { Knex } from 'knex';
import { CHANNELS, type Channel } from '@ca/contracts';
import { createServiceApp, healthRouter, HttpProblem, sealServiceApp } from '@ca/http';
import { listMigrations, type Db } from '@ca/postgres';
import type { Logger } from '@ca/telemetry';
import { createSimTables } from '../db/migrations';
import { createSimulatedProvider } from '../providers/simulated-provider';
import type { ReceiptSender } from './receipt-sender';

export interface ProviderSimDeps {
  db: Db;
  logger: Logger;
  clock: { now(): Date };
  random: () => number;
  /** Time the simulator takes to answer after it has accepted a message. */
  latencyMs: number;
  /** Share of calls (0..1) that fail transiently. */
  failureRate: number;
  /** Delivery receipts posted to the request's statusCallbackUrl (absent: none). */
  receipts?: ReceiptSender;
}

/**
 * The simulated providers as a process of their own (`provider-sim`), so every provider call from
 * delivery-service is a real network hop with an HTTP client span. One API for all channels:
 *   POST /v1/:channel/messages  (Idempotency-Key header; JSON { to, subject?, body })
 *     201 { id }         accepted (a repeated key answers the first id, no second effect)
 *     422 { code: invalid_recipient }  the fail-permanent rule (contracts/provider-rules.ts)
 *     503 { code: unavailable }        a transient failure (fail-transient/fail-always rules, failure rate)
 *   GET /v1/:channel/messages?idempotencyKey=…  200 { id } | 404: did the simulator accept that key?
 * With `statusCallbackUrl` in the POST body and SIM_RECEIPT_SECRET set, an accepted message's
 * receipt (delivered, or bounced/undelivered by the configured shares) is posted there later.
 * Its records live in its own PostgreSQL schema, so they outlive a delivery-service crash.
 */
export function buildProviderSim(deps: ProviderSimDeps) {
  const sims = new Map(CHANNELS.map((channel) => [channel, createSimulatedProvider({ ...deps, channel })]));
  const app = createServiceApp();
  app.use(healthRouter('provider-sim', { postgres: async () => { await deps.db.raw('select 1'); } }));
  const channelOf = (raw: string): Channel => {
    if (!(CHANNELS as readonly string[]).includes(raw)) throw new HttpProblem(404, 'UNKNOWN_CHANNEL', 'Unknown channel', `No simulated provider for channel ${raw.slice(0, 40)}`);
    return raw as Channel;
  };
  app.post('/v1/:channel/messages', express.json({ limit: '512kb' }), async (req, res) => {
    const channel = channelOf(req.params.channel as string);
    const key = req.get('idempotency-key');
    const body = req.body as { to?: unknown; subject?: unknown; body?: unknown; statusCallbackUrl?: unknown } | undefined;
    if (!key || typeof body?.to !== 'string' || typeof body.body !== 'string') {
      throw new HttpProblem(400, 'INVALID_REQUEST', 'Invalid request', 'Idempotency-Key header, to and body are required');
    }
    // The answer may be abandoned by the caller (its timeout): the effect stands, as at a real provider.
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const result = await sims.get(channel)!.send(
      { idempotencyKey: key, channel, to: body.to, body: body.body, ...(typeof body.subject === 'string' ? { subject: body.subject } : {}) },
      gone.signal,
    ).catch((err: unknown) => {
      if (gone.signal.aborted) return null;
      throw err;
    });
    if (!result) return;
    if (result.ok) {
      if (typeof body.statusCallbackUrl === 'string' && /^https?:\/\//.test(body.statusCallbackUrl)) deps.receipts?.schedule(body.statusCallbackUrl, result.providerMessageId);
      res.status(201).json({ id: result.providerMessageId });
      return;
    }
    if (!result.retryable) res.status(422).json({ code: 'invalid_recipient', error: result.reason });
    else res.status(503).json({ code: 'unavailable', error: result.reason });
  });
  app.get('/v1/:channel/messages', async (req, res) => {
    const channel = channelOf(req.params.channel as string);
    const key = typeof req.query.idempotencyKey === 'string' ? req.query.idempotencyKey : '';
    if (!key) throw new HttpProblem(400, 'INVALID_REQUEST', 'Invalid request', 'idempotencyKey is required');
    const effect = await deps.db('sim_provider_effects').where({ idempotency_key: key, channel }).first<{ provider_message_id: string } | undefined>();
    if (!effect) throw new HttpProblem(404, 'NOT_FOUND', 'Not found', 'No message accepted under that idempotency key');
    res.json({ id: effect.provider_message_id });
  });
  sealServiceApp(app, deps.logger);
  return app;
}

/** provider-sim's own tables (the same shape delivery-service's in-process simulator uses). */
export const providerSimMigrations = listMigrations([{
  name: '001_sim',
  async up(db: Knex) {
    await createSimTables(db);
  },
  async down(db: Knex) {
    await db.schema.dropTableIfExists('sim_provider_effects');
    await db.schema.dropTableIfExists('sim_provider_calls');
  },
}]);
