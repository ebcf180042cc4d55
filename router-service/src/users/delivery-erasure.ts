import { currentTraceHeaders } from '@ca/telemetry';
import { ErasureUnavailable } from '../errors';
import type { Fetch } from '../messages/delivery-client';

/**
 * Asks delivery-service to mask the recipient of these messages in its rows (its copy of the
 * address). Called before the router's own erasure commits, so a failure leaves the user in place
 * and the client's retried DELETE does the whole erasure again (both sides are idempotent).
 */
export async function eraseInDelivery(
  deps: { fetch: Fetch; deliveryUrl: string; timeoutMs: number; serviceToken: string | null },
  messageIds: string[],
): Promise<void> {
  if (messageIds.length === 0) return;
  let response: Response;
  try {
    response = await deps.fetch(`${deps.deliveryUrl}/internal/v1/erasures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...currentTraceHeaders(), ...(deps.serviceToken ? { authorization: `Bearer ${deps.serviceToken}` } : {}) },
      body: JSON.stringify({ messageIds }),
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
  } catch {
    throw new ErasureUnavailable();
  }
  await response.body?.cancel();
  if (response.status !== 200) throw new ErasureUnavailable();
}
