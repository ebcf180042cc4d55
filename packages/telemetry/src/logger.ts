import winston from 'winston';
import { ecsFields, ecsStringify } from '@elastic/ecs-winston-format';
import { context, trace, type Context } from '@opentelemetry/api';
import { maskFreeText } from '@ca/contracts';
import { transactionIdOf } from './transaction-ids';

export type Logger = winston.Logger;

export interface LoggerOptions {
  service: string;
  level: string;
  silent?: boolean;
  serviceVersion?: string;
  environment?: string;
  /** Where the ECS JSON lines go; default stdout. Tests pass a stream they read. */
  stream?: NodeJS.WritableStream;
}

/** Keys whose values never reach a log line. */
const SECRET_KEYS = /^(to|recipient|body|password|authorization|token|secret|api[_-]?key)$/i;

const mask = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (SECRET_KEYS.test(key)) info[key] = '[masked]';
  }
  if (typeof info.message === 'string') info.message = maskFreeText(info.message);
  return info;
});

/**
 * The winston instrumentation stores the context that was active when the line was written under
 * this symbol (and trace_id/span_id/trace_flags fields); formats may run later than the write.
 */
const WRITE_CONTEXT = Symbol.for('opentelemetry.js.contrib.winston.context');
const INSTRUMENTATION_FIELDS = ['trace_id', 'span_id', 'trace_flags'] as const;

/**
 * ECS tracing fields (trace.id, span.id, transaction.id) from the span active at the write, and
 * our own bindings moved off names ECS reserves for objects: `service` (ECS service.name, set by
 * ecsFields) and a string `error` (ECS error.message).
 */
const ecsCorrelation = winston.format((info) => {
  const written = (info as unknown as Record<symbol, unknown>)[WRITE_CONTEXT] as Context | undefined;
  const span = trace.getSpan(written ?? context.active());
  const sc = span?.spanContext();
  for (const key of INSTRUMENTATION_FIELDS) delete info[key];
  if (span && sc && trace.isSpanContextValid(sc)) {
    info['trace.id'] = sc.traceId;
    info['span.id'] = sc.spanId;
    const transactionId = transactionIdOf(span);
    if (transactionId) info['transaction.id'] = transactionId;
  }
  delete info.service;
  if (typeof info.error === 'string') info.error = { message: info.error };
  return info;
});

/**
 * One root logger per process: ECS JSON lines (Elastic's winston formatter) to stdout, so Filebeat
 * or Elastic Agent users get logs correlated with traces without logging-service. The winston
 * instrumentation also sends each record as an OTLP log; that copy gets the masked record without
 * the ECS reshaping (the ECS format belongs to the stdout transport only). Use
 * logger.child({ messageId }) for bindings.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const ecs = winston.format.combine(
    ecsCorrelation(),
    ecsFields({
      serviceName: opts.service,
      ...(opts.serviceVersion ? { serviceVersion: opts.serviceVersion } : {}),
      ...(opts.environment ? { serviceEnvironment: opts.environment } : {}),
      apmIntegration: false,
    }),
    ecsStringify(),
  );
  const transport = opts.stream
    ? new winston.transports.Stream({ stream: opts.stream, format: ecs })
    : new winston.transports.Console({ format: ecs });
  return winston.createLogger({
    level: opts.level,
    silent: opts.silent ?? false,
    defaultMeta: { service: opts.service },
    format: mask(),
    transports: [transport],
  });
}
