import winston from 'winston';
import { maskFreeText } from '@ca/contracts';

export type Logger = winston.Logger;

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
 * One root logger per process: JSON lines to stdout. The winston instrumentation adds trace_id,
 * span_id and trace_flags to every record written inside a span, and sends the same record as
 * an OTLP log. Use logger.child({ messageId }) for bindings.
 */
export function createLogger(opts: { service: string; level: string; silent?: boolean }): Logger {
  return winston.createLogger({
    level: opts.level,
    silent: opts.silent ?? false,
    defaultMeta: { service: opts.service },
    format: winston.format.combine(mask(), winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}
