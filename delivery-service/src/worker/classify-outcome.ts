import type { ProviderResult } from '../providers/provider';
import { PermanentDeliveryError, RateLimitedDeliveryError, TransientDeliveryError, type DeliveryError } from '../errors';

/** The one place a provider's outcome value becomes an error class. */
export function classifyFailure(result: Extract<ProviderResult, { ok: false }>): DeliveryError {
  if (result.retryAfterMs !== undefined && result.retryable) return new RateLimitedDeliveryError(result.reason, result.retryAfterMs);
  return result.retryable ? new TransientDeliveryError(result.reason) : new PermanentDeliveryError(result.reason);
}

/** A thrown provider error (timeout, network, bug in an adapter) counts as transient. */
export function classifyThrown(err: unknown): DeliveryError {
  const e = err as Error;
  const reason = e?.name === 'AbortError' || e?.name === 'TimeoutError' ? 'provider call timed out' : `provider call failed: ${e?.message ?? String(err)}`;
  return new TransientDeliveryError(reason);
}
