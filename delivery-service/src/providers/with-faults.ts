import { setTimeout as delay } from 'node:timers/promises';
import { trace } from '@opentelemetry/api';
import { ATTR, CHANNELS } from '@ca/contracts';
import { FAULT, markFault, type Faults } from '@ca/faults';
import type { Provider, ProviderResult, Providers } from './provider';

/**
 * The providers the delivery worker calls, with `provider.latency_ms` and `provider.outage` in
 * front (README "Failure scenarios"). Decorates the Provider interface, so it works the same for
 * the in-process simulation and for a provider behind HTTP. An outage answers what a provider's
 * 503 is turned into: a retryable failure, which the worker classifies, retries with backoff and,
 * past MAX_ATTEMPTS, dead-letters. The hit is marked on the active span (the worker's
 * provider.send client span).
 */
export function withProviderFaults(providers: Providers, faults: Faults, random: () => number): Providers {
  return Object.fromEntries(CHANNELS.map((channel) => [channel, decorate(providers[channel], faults, random)])) as unknown as Providers;
}

function decorate(provider: Provider, faults: Faults, random: () => number): Provider {
  return {
    name: provider.name,
    ...(provider.receipts ? { receipts: provider.receipts } : {}),
    async send(req, signal): Promise<ProviderResult> {
      const latencyMs = faults.value(FAULT.providerLatency, req.channel);
      const outage = faults.rolls(FAULT.providerOutage, random, req.channel);
      const hit = [...(latencyMs > 0 ? [FAULT.providerLatency] : []), ...(outage ? [FAULT.providerOutage] : [])];
      if (hit.length > 0) markFault(trace.getActiveSpan(), hit, latencyMs > 0 ? { [ATTR.faultDelayMs]: latencyMs } : {});
      // The wait ends early when the worker's provider timeout aborts the call, as a real slow provider's would.
      if (latencyMs > 0) await delay(latencyMs, undefined, { signal });
      if (outage) return { ok: false, reason: `provider unavailable (503; injected fault ${FAULT.providerOutage})`, retryable: true };
      return provider.send(req, signal);
    },
  };
}
