import { SpanKind, trace, type Context, type Span as ApiSpan } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * Elastic's `transaction.id` is the id of the entry span a span belongs to. OpenTelemetry has no
 * such notion, so this processor remembers, for every span started in this process, the id of its
 * entry span, by the same rule logging-service and apm-data use to make a span a transaction: no
 * parent in this process (none, or a remote one), or kind SERVER / CONSUMER. Weakly held: an ended
 * span that nothing references any more costs nothing.
 */
const entrySpanIds = new WeakMap<object, string>();

export class TransactionIdTracker implements SpanProcessor {
  onStart(span: Span, parentContext: Context): void {
    const parent = trace.getSpan(parentContext);
    const isEntry = span.kind === SpanKind.SERVER || span.kind === SpanKind.CONSUMER;
    if (parent === undefined || parent.spanContext().isRemote || isEntry) {
      entrySpanIds.set(span, span.spanContext().spanId);
    } else {
      entrySpanIds.set(span, entrySpanIds.get(parent) ?? parent.spanContext().spanId);
    }
  }
  onEnd(_span: ReadableSpan): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The ECS `transaction.id` of a span started while a TransactionIdTracker was registered. */
export function transactionIdOf(span: ApiSpan): string | undefined {
  return entrySpanIds.get(span);
}
