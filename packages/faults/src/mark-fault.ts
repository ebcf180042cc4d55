import { trace, type Attributes, type Span } from '@opentelemetry/api';
import { ATTR, SPAN } from '@ca/contracts';

/**
 * Makes an injected fault visible where it bit: the `ca.fault.injected` attribute (filterable in
 * Kibana, shown in the waterfall) and a `fault.injected` event at the moment it bit. Several
 * faults on one span are named comma-separated (`provider.latency_ms,provider.outage`).
 */
export function markFault(span: Span | undefined, names: string | string[], attributes: Attributes = {}): void {
  if (!span) return;
  const name = Array.isArray(names) ? names.join(',') : names;
  span.setAttribute(ATTR.faultInjected, name);
  for (const [k, v] of Object.entries(attributes)) if (v !== undefined) span.setAttribute(k, v);
  span.addEvent(SPAN.faultInjected, { [ATTR.faultInjected]: name, ...attributes });
}

/** markFault on the active span (the span of the call the fault delays or fails). */
export function markActiveFault(names: string | string[], attributes: Attributes = {}): void {
  markFault(trace.getActiveSpan(), names, attributes);
}
