import { MESSAGE_STATUSES, type CancelRequest, type DeliveryStatusView } from '@ca/contracts';
import { currentTraceHeaders } from '@ca/telemetry';
import { StatusUnavailable } from '../errors';

export type Fetch = typeof fetch;

/**
 * Reads the delivery half of a message's status from delivery-service. null: delivery-service has
 * no record yet (not consumed). Anything else that is not a well-formed answer in time is
 * StatusUnavailable: the status is unknown and we do not guess it.
 *
 * Node's fetch (undici) is not covered by the http instrumentation, so the active trace context
 * is injected by hand: delivery-service's server span joins this request's trace.
 */
export async function fetchDeliveryStatus(
  deps: { fetch: Fetch; deliveryUrl: string; timeoutMs: number; serviceToken: string | null },
  id: string,
): Promise<DeliveryStatusView | null> {
  let response: Response;
  try {
    response = await deps.fetch(`${deps.deliveryUrl}/internal/v1/messages/${encodeURIComponent(id)}`, {
      headers: { accept: 'application/json', ...currentTraceHeaders(), ...(deps.serviceToken ? { authorization: `Bearer ${deps.serviceToken}` } : {}) },
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
  } catch {
    throw new StatusUnavailable();
  }
  if (response.status === 404) {
    await response.body?.cancel();
    return null;
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new StatusUnavailable();
  }
  let view: unknown;
  try {
    view = await response.json();
  } catch {
    throw new StatusUnavailable();
  }
  if (!isDeliveryStatusView(view, id)) throw new StatusUnavailable();
  return view;
}

function isDeliveryStatusView(value: unknown, id: string): value is DeliveryStatusView {
  const v = value as Partial<DeliveryStatusView> | null;
  return typeof v === 'object' && v !== null && v.id === id
    && (MESSAGE_STATUSES as readonly unknown[]).includes(v.status)
    && typeof v.deliveryAttempts === 'number' && Array.isArray(v.attempts);
}

export type DeliveryCancelOutcome = { canceled: true } | { canceled: false; status: DeliveryStatusView['status'] };

/**
 * Asks delivery-service to cancel a message it may or may not have seen yet. It decides under the
 * same row lock its claim takes, so the answer is final: canceled (no provider call will be made)
 * or the current status (a call was made or is under way).
 */
export async function cancelInDelivery(
  deps: { fetch: Fetch; deliveryUrl: string; timeoutMs: number; serviceToken: string | null },
  id: string,
  request: CancelRequest,
): Promise<DeliveryCancelOutcome> {
  let response: Response;
  try {
    response = await deps.fetch(`${deps.deliveryUrl}/internal/v1/messages/${encodeURIComponent(id)}/cancel`, {
      method: 'POST',
      headers: {
        accept: 'application/json', 'content-type': 'application/json', ...currentTraceHeaders(),
        ...(deps.serviceToken ? { authorization: `Bearer ${deps.serviceToken}` } : {}),
      },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
  } catch {
    throw new StatusUnavailable();
  }
  let body: { status?: unknown } = {};
  try {
    body = (await response.json()) as { status?: unknown };
  } catch {
    throw new StatusUnavailable();
  }
  const status = body.status;
  if (!(MESSAGE_STATUSES as readonly unknown[]).includes(status)) throw new StatusUnavailable();
  if (response.status === 200 && status === 'canceled') return { canceled: true };
  if (response.status === 409) return { canceled: false, status: status as DeliveryStatusView['status'] };
  throw new StatusUnavailable();
}

/**
 * The statuses of many messages in one call (campaign counts). Messages delivery-service has not
 * consumed yet are absent from the answer. Any failure is StatusUnavailable: the caller tries again later.
 */
export async function fetchDeliveryStatuses(
  deps: { fetch: Fetch; deliveryUrl: string; timeoutMs: number; serviceToken: string | null },
  ids: readonly string[],
): Promise<Map<string, string>> {
  let response: Response;
  try {
    response = await deps.fetch(`${deps.deliveryUrl}/internal/v1/message-statuses`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json', ...currentTraceHeaders(), ...(deps.serviceToken ? { authorization: `Bearer ${deps.serviceToken}` } : {}) },
      body: JSON.stringify({ ids }),
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
  } catch {
    throw new StatusUnavailable();
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new StatusUnavailable();
  }
  const body = await response.json().catch(() => null) as { statuses?: Array<{ id?: unknown; status?: unknown }> } | null;
  if (!body || !Array.isArray(body.statuses)) throw new StatusUnavailable();
  const out = new Map<string, string>();
  for (const s of body.statuses) {
    if (typeof s.id === 'string' && (MESSAGE_STATUSES as readonly unknown[]).includes(s.status)) out.set(s.id, s.status as string);
  }
  return out;
}
