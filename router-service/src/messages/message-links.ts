import type { AcceptedView } from '@ca/contracts';

export function selfLink(id: string): string {
  return `/v1/messages/${id}`;
}

/** Link to the trace viewer (logging-service), or null when none is configured. */
export function traceLink(traceViewUrl: string, traceId: string): string | null {
  return traceViewUrl ? `${traceViewUrl}/traces/${traceId}` : null;
}

export function acceptedView(id: string, traceId: string, traceViewUrl: string, status: AcceptedView['status'] = 'pending'): AcceptedView {
  return { id, status, traceId, links: { self: selfLink(id), trace: traceLink(traceViewUrl, traceId) } };
}
