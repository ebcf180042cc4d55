import { NodeSDK } from '@opentelemetry/sdk-node';
import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BatchSpanProcessor, NoopSpanProcessor, type ReadableSpan, type Span, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Context } from '@opentelemetry/api';
import type { MetricReader } from '@opentelemetry/sdk-metrics';
import { BatchLogRecordProcessor, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { IncomingMessage } from 'node:http';
import { TransactionIdTracker } from './transaction-ids';
import { RetryingExporter } from './retrying-exporter';

export interface TelemetryOptions {
  serviceName: string;
  serviceVersion: string;
  environment: string;
  /** Base OTLP/HTTP URL (…/v1/traces and …/v1/logs are appended). Empty: no export. */
  otlpEndpoint: string;
  /** Incoming HTTP paths that get no span (health probes, the OTLP intake itself). */
  ignorePaths?: readonly string[];
  /** Tests inject in-memory exporters; production leaves these unset. */
  spanExporter?: SpanExporter;
  logExporter?: LogRecordExporter;
  batch?: { maxQueueSize: number; maxExportBatchSize: number; scheduledDelayMillis: number };
  /**
   * Metric readers (@ca/metrics createMetricsExport: Prometheus pull, OTLP push). Empty or unset:
   * no MeterProvider, every instrument (ours and the auto-instrumentations') is a no-op.
   */
  metricReaders?: MetricReader[];
}

export interface Telemetry {
  shutdown(): Promise<void>;
  forceFlush(): Promise<void>;
}

const DEFAULT_BATCH = { maxQueueSize: 8192, maxExportBatchSize: 1024, scheduledDelayMillis: 500 };

/**
 * What one process holds while the OTLP receiver is away (RetryingExporter), sized so a 60 s
 * outage at 10 messages/s loses nothing. Measured (test/system/telemetry-outage.int.test.ts): a
 * delivered message is 26 spans, 11 in router-service and 15 in delivery-service, and about 2 log
 * records per process; a message that needs retries has ~15 more per attempt in delivery-service.
 * 600 messages → 9 000 spans in the busiest process; the bound leaves room for retries and a slow
 * recovery. Memory: at most ≈1.5 KB per buffered span (estimate), so ≈37 MB for spans.
 */
const OUTAGE_BUFFER = {
  spans: { maxBufferedItems: 24_576 },
  logs: { maxBufferedItems: 8_192 },
};

/**
 * Starts the OpenTelemetry SDK. Must run before express, kafkajs, pg or winston are required:
 * main.ts imports this first, and everything instrumented is required after it.
 *
 * Only the instrumentations we use are loaded (main.ts sets OTEL_NODE_ENABLED_INSTRUMENTATIONS);
 * pg spans need a parent so the outbox relay's and the retry scheduler's idle polling does not
 * flood the backend with one-span traces. See docs/performance.md for what each choice costs.
 */
export function startTelemetry(opts: TelemetryOptions): Telemetry {
  const ignore = new Set(opts.ignorePaths ?? ['/health', '/ready']);
  const batch = opts.batch ?? DEFAULT_BATCH;
  const spanExporter = opts.spanExporter ?? (opts.otlpEndpoint ? new RetryingExporter(new OTLPTraceExporter({ url: `${trimSlash(opts.otlpEndpoint)}/v1/traces` }), OUTAGE_BUFFER.spans) : undefined);
  const logExporter = opts.logExporter ?? (opts.otlpEndpoint ? new RetryingExporter(new OTLPLogExporter({ url: `${trimSlash(opts.otlpEndpoint)}/v1/logs` }), OUTAGE_BUFFER.logs) : undefined);
  // Without an exporter spans are still created (trace ids, traceresponse and log correlation keep
  // working); they are just not sent. An empty list would make NodeSDK register no tracer at all.
  // The TransactionIdTracker gives log lines their ECS transaction.id (logger.ts).
  const spanProcessors: SpanProcessor[] = [
    new TransactionIdTracker(),
    spanExporter ? new DropTransactionControlSpans(new BatchSpanProcessor(spanExporter, batch)) : new NoopSpanProcessor(),
  ];

  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: opts.serviceName,
      [ATTR_SERVICE_VERSION]: opts.serviceVersion,
      'deployment.environment': opts.environment,
      'deployment.environment.name': opts.environment,
    }),
    spanProcessors,
    // W3C trace context only, no W3C baggage: a client's `baggage` header is free text it chose
    // (it may hold secrets or recipients) and nothing here reads baggage, so it is neither taken
    // from a request nor copied into Kafka headers, outbox rows or calls to the next service.
    // This overrides OTEL_PROPAGATORS on purpose (docs/decisions.md "Client baggage is dropped").
    textMapPropagator: new W3CTraceContextPropagator(),
    // Only the readers the service asked for (OTEL_METRICS_EXPORTER through @ca/metrics), never the
    // SDK's env defaults. With readers, the http instrumentation records http.server/client
    // .request.duration (HTTP RED) and our own instruments come alive; an empty list means no
    // MeterProvider: a no-op meter, and no histogram bookkeeping on any call.
    metricReaders: opts.metricReaders ?? [],
    logRecordProcessors: logExporter ? [new BatchLogRecordProcessor({ exporter: logExporter, ...batch })] : [],
    instrumentations: [
      getNodeAutoInstrumentations({
        '@opentelemetry/instrumentation-http': {
          ignoreIncomingRequestHook: (req: IncomingMessage) => ignore.has((req.url ?? '').split('?')[0] ?? ''),
        },
        // Request-handler spans only: middleware and router layers add spans to every request
        // (`router - /v1/messages`, json parser, …) that tell nothing the handler span does not.
        '@opentelemetry/instrumentation-express': { ignoreLayersType: ['middleware' as never, 'router' as never] },
        // pg-pool.connect / pg.connect spans on every checkout say nothing about our queries.
        '@opentelemetry/instrumentation-pg': { requireParentSpan: true, enhancedDatabaseReporting: false, ignoreConnectSpans: true },
        '@opentelemetry/instrumentation-kafkajs': {},
        '@opentelemetry/instrumentation-winston': { disableLogSending: !logExporter },
        // parse/validate/execute spans per GraphQL operation; allowValues false prints the document's
        // literals as `*` (a recipient written inline never reaches a span); resolvers of plain
        // properties and list items get no span of their own.
        '@opentelemetry/instrumentation-graphql': { allowValues: false, ignoreTrivialResolveSpans: true, mergeItems: true, depth: 2 },
      }),
    ],
  });
  sdk.start();
  return {
    shutdown: () => sdk.shutdown(),
    forceFlush: async () => {
      await Promise.all(spanProcessors.map((p) => p.forceFlush()));
    },
  };
}

/**
 * Drops pg `BEGIN` / `COMMIT` spans before export. They were a fifth of all exported documents (each
 * transaction has one of each) and carry nothing but a duration of a round trip; the statements
 * inside the transaction keep their spans, and so does `ROLLBACK`, which is worth seeing.
 * See docs/performance.md for what this saved.
 */
class DropTransactionControlSpans implements SpanProcessor {
  constructor(private readonly next: SpanProcessor) {}
  onStart(span: Span, parentContext: Context): void {
    this.next.onStart(span, parentContext);
  }
  onEnd(span: ReadableSpan): void {
    if (TRANSACTION_CONTROL.test(span.name) && span.instrumentationScope.name.endsWith('instrumentation-pg')) return;
    this.next.onEnd(span);
  }
  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.next.shutdown();
  }
}
const TRANSACTION_CONTROL = /^pg\.query:(BEGIN|COMMIT)\b/;

function trimSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}
