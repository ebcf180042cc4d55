import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { ATTR, SPAN, maskRecipient, type SendRecord } from '@ca/contracts';
import { inSpan, type Logger } from '@ca/telemetry';
import { PermanentDeliveryError, RateLimitedDeliveryError, TransientDeliveryError, type DeliveryError } from '../errors';
import type { ProviderRequest, ProviderResult } from '../providers/provider';
import { describeError, neverConnected } from '../providers/network-errors';
import type { Claim } from '../store/message-store';
import type { SuppressionStore } from '../store/suppressions';
import { classifyFailure } from '../worker/classify-outcome';
import type { Candidate, ProviderRouting } from './provider-router';

/** `provider`: the provider that sent it, or the last one tried (null: none was called). */
export type DispatchOutcome = ({ ok: true; providerMessageId: string } | { ok: false; failure: DeliveryError }) & { provider: string | null };

/** What one provider call told us, for the failover rules. */
type CallOutcome =
  | { kind: 'sent'; providerMessageId: string }
  | { kind: 'circuit_open' }
  | { kind: 'not_accepted'; result: Extract<ProviderResult, { ok: false }> }
  | { kind: 'permanent'; result: Extract<ProviderResult, { ok: false }> }
  | { kind: 'ambiguous'; reason: string };

export interface DispatchDeps {
  routing: ProviderRouting;
  pinProvider(id: string, fence: number, provider: string | null): Promise<boolean>;
  suppressions: SuppressionStore | null;
  providerTimeoutMs: number;
  /** When to try again after every circuit was open (about the breakers' reset timeout). */
  circuitRetryMs: number;
  clock: { now(): Date };
  logger: Logger;
  /** PUBLIC_URL + /v1/receipts: providers that send receipts are told to call back under it; null: none are asked. */
  receiptsUrl?: string | null;
}

/**
 * Sends one message through the tenant's providers without ever sending it twice:
 * - fail over to the next provider only when the previous one certainly did not accept (a refused
 *   connection, a documented not-accepted answer, an open circuit);
 * - after an ambiguous failure (timeout, reset, an unexplained 5xx) ask that provider by idempotency
 *   key where it offers a lookup; otherwise pin the message to it, so every later attempt goes to
 *   that provider only (the ledger's pin outlives a crash too);
 * - an unusable recipient fails permanently on the first provider and joins the tenant's suppression list.
 * Every decision is an attribute on the attempt span (docs/providers.md has the table and the proofs).
 */
export function createDispatcher(deps: DispatchDeps) {
  async function call(c: Candidate, req: ProviderRequest, record: SendRecord): Promise<CallOutcome> {
    return inSpan(
      SPAN.providerSend,
      { [ATTR.provider]: c.name, [ATTR.channel]: record.channel, [ATTR.recipientMasked]: maskRecipient(record.channel, record.to), [ATTR.messageId]: record.id, [ATTR.circuitState]: c.breaker.state(), 'peer.service': c.name },
      async (pspan) => {
        const started = Date.now();
        let outcome: CallOutcome;
        try {
          const callback = c.provider.receipts && deps.receiptsUrl ? { statusCallbackUrl: `${deps.receiptsUrl}/${c.provider.receipts}` } : {};
          const run = await c.breaker.run(() => c.provider.send({ ...req, ...callback }, AbortSignal.timeout(deps.providerTimeoutMs)));
          if (run.open) outcome = { kind: 'circuit_open' };
          else if (run.result.ok) outcome = { kind: 'sent', providerMessageId: run.result.providerMessageId };
          else if (!run.result.retryable) outcome = { kind: 'permanent', result: run.result };
          else if (run.result.notAccepted) outcome = { kind: 'not_accepted', result: run.result };
          else outcome = { kind: 'ambiguous', reason: run.result.reason };
        } catch (err) {
          outcome = neverConnected(err)
            ? { kind: 'not_accepted', result: { ok: false, retryable: true, notAccepted: true, reason: `provider unreachable: ${describeError(err)}` } }
            : { kind: 'ambiguous', reason: describeError(err) };
        }
        if (outcome.kind !== 'circuit_open') {
          const healthy = outcome.kind === 'sent' || outcome.kind === 'permanent' || (outcome.kind === 'not_accepted' && outcome.result.retryAfterMs !== undefined);
          c.health.record(healthy, Date.now() - started);
        }
        pspan.setAttribute(ATTR.routingDecision, outcome.kind);
        if (outcome.kind === 'sent') pspan.setAttribute(ATTR.providerMessageId, outcome.providerMessageId);
        else {
          const code = 'result' in outcome ? outcome.result.code : undefined;
          if (code) pspan.setAttribute(ATTR.providerErrorCode, code);
          pspan.setStatus({ code: SpanStatusCode.ERROR, message: 'result' in outcome ? outcome.result.reason : outcome.kind === 'ambiguous' ? outcome.reason : 'circuit open' });
        }
        return outcome;
      },
      { kind: SpanKind.CLIENT },
    );
  }

  async function lookup(c: Candidate, req: ProviderRequest): Promise<string | null> {
    if (!c.provider.lookup) return null;
    try {
      const found = await c.provider.lookup(req, AbortSignal.timeout(deps.providerTimeoutMs));
      return found.found ? found.providerMessageId : null;
    } catch {
      return null;
    }
  }

  return {
    async dispatch(record: SendRecord, claim: Claim, span: Span): Promise<DispatchOutcome> {
      const tenantId = record.tenantId;
      const decide = (decision: string, path: string[]) => {
        span.setAttribute(ATTR.routingDecision, decision);
        if (path.length > 0) span.setAttribute(ATTR.routingPath, path.join('>'));
      };
      if (tenantId && deps.suppressions && (await deps.suppressions.isSuppressed(tenantId, record.channel, record.to))) {
        decide('suppressed', []);
        return { ok: false, provider: null, failure: new PermanentDeliveryError('recipient is on the tenant suppression list (an earlier hard bounce or invalid address)') };
      }
      const req: ProviderRequest = { idempotencyKey: record.id, channel: record.channel, to: record.to, subject: record.subject, body: record.body, ...(tenantId ? { tenantId } : {}) };
      const route = await deps.routing.route(tenantId, record.channel);
      let candidates = route.candidates;
      const pinned = claim.pinnedProvider ?? null;
      if (pinned) {
        span.setAttribute(ATTR.providerPinned, pinned);
        const only = candidates.find((c) => c.name === pinned);
        // A pinned provider that was removed from the route can no longer be asked: the pin is moot.
        if (only) candidates = [only];
      }
      span.setAttribute(ATTR.providerCandidates, candidates.map((c) => c.name).join(','));
      const path: string[] = [];
      const prePin = route.routed && candidates.length > 1;
      let last: Extract<ProviderResult, { ok: false }> | null = null;

      for (const c of candidates) {
        span.setAttribute(ATTR.provider, c.name);
        span.setAttribute(ATTR.circuitState, c.breaker.state());
        if (pinned === c.name) {
          // An earlier call may have reached it: ask first where it can tell us.
          const id = await lookup(c, req);
          if (id) {
            path.push(`${c.name}:lookup_found`);
            decide('lookup_found', path);
            return { ok: true, provider: c.name, providerMessageId: id };
          }
        }
        if (prePin && pinned !== c.name && !(await deps.pinProvider(record.id, claim.fence, c.name))) {
          return { ok: false, provider: c.name, failure: new TransientDeliveryError('fenced: another worker owns this message') };
        }
        const outcome = await call(c, req, record);
        path.push(`${c.name}:${outcome.kind}`);
        switch (outcome.kind) {
          case 'sent':
            decide(path.length > 1 ? 'sent_after_failover' : 'sent', path);
            return { ok: true, provider: c.name, providerMessageId: outcome.providerMessageId };
          case 'permanent':
            if (outcome.result.badRecipient && tenantId && deps.suppressions) {
              await deps.suppressions.add(tenantId, { channel: record.channel, recipient: record.to, reason: outcome.result.reason, provider: c.name, messageId: record.id }, deps.clock.now());
            }
            decide(outcome.result.badRecipient ? 'permanent_bad_recipient' : 'permanent', path);
            return { ok: false, provider: c.name, failure: classifyFailure(outcome.result) };
          case 'ambiguous': {
            // It may have accepted: never a second provider. Ask it, else retry it (and only it).
            const id = await lookup(c, req);
            if (id) {
              path.push(`${c.name}:lookup_found`);
              decide('lookup_found', path);
              return { ok: true, provider: c.name, providerMessageId: id };
            }
            if (route.routed && !prePin && pinned !== c.name) await deps.pinProvider(record.id, claim.fence, c.name);
            decide('retry_same_provider', path);
            return { ok: false, provider: c.name, failure: new TransientDeliveryError(`${c.name}: ${outcome.reason} (outcome unknown: retrying the same provider)`) };
          }
          case 'circuit_open':
            last = { ok: false, retryable: true, notAccepted: true, reason: `${c.name}: circuit open` };
            break;
          case 'not_accepted':
            last = outcome.result;
            break;
        }
        if (pinned === c.name) break; // still pinned: a "not accepted" now says nothing about the earlier call
      }
      // Nobody accepted it, certainly: unpin (unless the pin came from an earlier ambiguous call).
      if (prePin && !pinned) await deps.pinProvider(record.id, claim.fence, null);
      if (path.every((p) => p.endsWith(':circuit_open'))) {
        // Every circuit is open: not the message's fault, so wait for the half-open trial without using an attempt.
        decide('all_circuits_open', path);
        return { ok: false, provider: candidates.at(-1)?.name ?? null, failure: new RateLimitedDeliveryError('every provider circuit is open', deps.circuitRetryMs) };
      }
      decide(candidates.length > 1 ? 'failover_exhausted' : 'not_accepted', path);
      return { ok: false, provider: candidates.at(-1)?.name ?? null, failure: classifyFailure(last ?? { ok: false, retryable: true, reason: 'no provider configured' }) };
    },
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
