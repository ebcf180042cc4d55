import { CHANNELS, type Channel } from '@ca/contracts';
import type { Provider, Providers, ProviderLookup, ProviderRequest, ProviderResult } from './provider';
import { retryAfterMs } from './network-errors';

/**
 * The simulated provider reached over HTTP (the `provider-sim` process): every call is a real
 * network hop with an HTTP client span. The simulator honours the idempotency key and answers
 * lookups by it, so an ambiguous failure can be resolved by asking it.
 */
export function createHttpSimProvider(name: string, channel: Channel, baseUrl: string, clock: { now(): Date }): Provider {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    name,
    receipts: 'sim',
    async send(req: ProviderRequest, signal: AbortSignal): Promise<ProviderResult> {
      const res = await fetch(`${base}/v1/${channel}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': req.idempotencyKey },
        body: JSON.stringify({ to: req.to, subject: req.subject, body: req.body, ...(req.statusCallbackUrl ? { statusCallbackUrl: req.statusCallbackUrl } : {}) }),
        signal,
      });
      const body = (await res.json().catch(() => ({}))) as { id?: string; error?: string; code?: string };
      if (res.ok && body.id) return { ok: true, providerMessageId: body.id };
      const reason = `${name} ${res.status}: ${body.error ?? res.statusText}`;
      if (res.status === 429) return { ok: false, retryable: true, notAccepted: true, reason, code: body.code, retryAfterMs: retryAfterMs(res.headers.get('retry-after'), clock.now(), 1000) ?? 1000 };
      if (res.status === 422) return { ok: false, retryable: false, notAccepted: true, badRecipient: body.code === 'invalid_recipient', reason, code: body.code };
      if (res.status === 503) return { ok: false, retryable: true, notAccepted: true, reason, code: body.code };
      return { ok: false, retryable: res.status >= 500, reason, code: body.code };
    },
    async lookup(req: ProviderRequest, signal: AbortSignal): Promise<ProviderLookup> {
      const res = await fetch(`${base}/v1/${channel}/messages?idempotencyKey=${encodeURIComponent(req.idempotencyKey)}`, { signal });
      if (res.status === 404) return { found: false };
      if (!res.ok) throw new Error(`${name} lookup answered ${res.status}`);
      const body = (await res.json()) as { id: string };
      return { found: true, providerMessageId: body.id };
    },
  };
}

/** Every channel's default provider, reached at provider-sim. */
export function createHttpSimProviders(baseUrl: string, clock: { now(): Date }): Providers {
  return Object.freeze(Object.fromEntries(CHANNELS.map((channel) => [channel, createHttpSimProvider(`simulated-${channel}`, channel, baseUrl, clock)])) as Record<Channel, Provider>);
}
