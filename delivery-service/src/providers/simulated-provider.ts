import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { forcedOutcomeFor, maskRecipient, FAIL_TRANSIENT_SUCCEEDS_ON_CALL, CHANNELS, type Channel } from '@ca/contracts';
import type { Db } from '@ca/postgres';
import type { Provider, ProviderRequest, ProviderResult, Providers } from './provider';

export interface SimulatedProviderOptions {
  db: Db;
  channel: Channel;
  /** Time the provider takes to answer after it has accepted the message. */
  latencyMs: number;
  /** Share of calls (0..1) that fail transiently, drawn from `random`. */
  failureRate: number;
  random: () => number;
  clock: { now(): Date };
}

/**
 * A provider that behaves like a real one where it matters for exactly-once:
 * - it records every call, and honours the idempotency key: a key it has already delivered returns
 *   the same provider message id and produces no second effect;
 * - it accepts (records the effect) before it answers, so a caller that dies while waiting for the
 *   answer has caused the effect — the case the delivery ledger must survive;
 * - recipients can force an outcome (contracts/provider-rules.ts, a public contract).
 * Its records live in PostgreSQL so they outlive a crash of delivery-service, as a provider's would.
 */
export function createSimulatedProvider(opts: SimulatedProviderOptions): Provider {
  const name = `simulated-${opts.channel}`;
  return {
    name,
    async send(req: ProviderRequest, signal: AbortSignal): Promise<ProviderResult> {
      const result = await opts.db.transaction(async (trx) => {
        // Serialise calls for one key so call numbers and the effect check are exact.
        await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [req.idempotencyKey]);
        const prior = await trx('sim_provider_calls').where({ idempotency_key: req.idempotencyKey }).count<{ count: string }[]>('* as count');
        const callNumber = Number(prior[0]?.count ?? 0) + 1;
        const existing = await trx('sim_provider_effects').where({ idempotency_key: req.idempotencyKey }).first<{ provider_message_id: string } | undefined>();
        let outcome: ProviderResult;
        let recorded: string;
        if (existing) {
          outcome = { ok: true, providerMessageId: existing.provider_message_id };
          recorded = 'duplicate_suppressed';
        } else {
          outcome = decide(req, callNumber, opts);
          recorded = outcome.ok ? 'delivered' : outcome.retryable ? 'transient_failure' : 'permanent_failure';
          if (outcome.ok) {
            await trx('sim_provider_effects').insert({
              idempotency_key: req.idempotencyKey,
              channel: req.channel,
              provider_message_id: outcome.providerMessageId,
              recipient_masked: maskRecipient(req.channel, req.to),
              at: opts.clock.now(),
            });
          }
        }
        await trx('sim_provider_calls').insert({ idempotency_key: req.idempotencyKey, channel: req.channel, call_number: callNumber, outcome: recorded, at: opts.clock.now() });
        return outcome;
      });
      if (opts.latencyMs > 0) await sleep(opts.latencyMs, undefined, { signal });
      return result;
    },
  };
}

function decide(req: ProviderRequest, callNumber: number, opts: SimulatedProviderOptions): ProviderResult {
  switch (forcedOutcomeFor(req.channel, req.to)) {
    case 'fail-permanent':
      return { ok: false, retryable: false, reason: 'recipient rejected by provider (fail-permanent rule)' };
    case 'fail-always':
      return { ok: false, retryable: true, reason: 'provider temporarily unavailable (fail-always rule)' };
    case 'fail-transient':
      if (callNumber < FAIL_TRANSIENT_SUCCEEDS_ON_CALL) {
        return { ok: false, retryable: true, reason: `provider temporarily unavailable (fail-transient rule, call ${callNumber})` };
      }
      break;
    case null:
      if (opts.failureRate > 0 && opts.random() < opts.failureRate) {
        return { ok: false, retryable: true, reason: 'provider temporarily unavailable (simulated failure rate)' };
      }
  }
  return { ok: true, providerMessageId: `${req.channel}-${randomUUID()}` };
}

export function createSimulatedProviders(opts: Omit<SimulatedProviderOptions, 'channel'>): Providers {
  const entries = CHANNELS.map((channel) => [channel, createSimulatedProvider({ ...opts, channel })] as const);
  return Object.freeze(Object.fromEntries(entries) as Record<Channel, Provider>);
}
