import type { DashboardView, DeliveryStatsRow } from '@ca/contracts';
import { currentTraceHeaders } from '@ca/telemetry';
import type { Clock } from '../clock';
import { StatusUnavailable } from '../errors';
import type { Fetch } from '../messages/delivery-client';

export interface DashboardDeps {
  fetch: Fetch;
  clock: Clock;
  settings: { deliveryUrl: string; deliveryTimeoutMs: number; serviceToken: string | null };
}

/** The delivery rate's window: "sent per minute" counts the messages sent in the last 60 s. */
const RATE_WINDOW_MS = 60_000;

function isRow(r: Partial<DeliveryStatsRow> | null): r is DeliveryStatsRow {
  return typeof r === 'object' && r !== null && typeof r.channel === 'string' && typeof r.provider === 'string'
    && [r.sent, r.failed, r.retrying, r.pending, r.retries, r.sentRecently].every((n) => Number.isSafeInteger(n));
}

/**
 * One merchant's live dashboard: delivery-service's numbers (the owner of delivery state; it knows
 * the provider of each message and every retry) for `tenantId`, which is always the caller's own
 * principal — there is no parameter that names another merchant. Any failure is StatusUnavailable.
 */
export async function readDashboard(deps: DashboardDeps, tenantId: string, windowMinutes: number): Promise<DashboardView> {
  const at = deps.clock.now();
  const since = new Date(at.getTime() - windowMinutes * 60_000);
  const q = new URLSearchParams({ since: since.toISOString(), recentSince: new Date(at.getTime() - RATE_WINDOW_MS).toISOString() });
  let response: Response;
  try {
    response = await deps.fetch(`${deps.settings.deliveryUrl}/internal/v1/tenants/${encodeURIComponent(tenantId)}/delivery-stats?${q.toString()}`, {
      headers: { accept: 'application/json', ...currentTraceHeaders(), ...(deps.settings.serviceToken ? { authorization: `Bearer ${deps.settings.serviceToken}` } : {}) },
      signal: AbortSignal.timeout(deps.settings.deliveryTimeoutMs),
    });
  } catch {
    throw new StatusUnavailable();
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new StatusUnavailable();
  }
  const body = await response.json().catch(() => null) as { rows?: Array<Partial<DeliveryStatsRow> | null> } | null;
  if (!body || !Array.isArray(body.rows) || !body.rows.every(isRow)) throw new StatusUnavailable();
  return {
    since: since.toISOString(), at: at.toISOString(), windowMinutes,
    rows: (body.rows as DeliveryStatsRow[]).map((r) => ({
      channel: r.channel, provider: r.provider, sent: r.sent, failed: r.failed, retrying: r.retrying, pending: r.pending, retries: r.retries, sentRecently: r.sentRecently,
      successRate: r.sent + r.failed > 0 ? Math.round((r.sent / (r.sent + r.failed)) * 1000) / 1000 : null,
      sentPerMinute: r.sentRecently,
    })),
  };
}
