import type { RequestHandler } from 'express';
import { IntakeDownInjected } from './errors';
import type { Faults } from './fault-registry';
import { FAULT } from './fault-set';
import { markActiveFault } from './mark-fault';

/**
 * `logging.down` in front of an intake: while on, every request answers 503 with Retry-After, as
 * a receiver that is restarting or overloaded would, without reading the body. Exporters keep
 * their batches and send them again (packages/telemetry's RetryingExporter), so nothing is lost
 * if the outage is shorter than their buffers last.
 */
export function unavailableWhileDown(faults: Faults, retryAfterSeconds = 1): RequestHandler {
  return (_req, _res, next) => {
    if (!faults.isOn(FAULT.loggingDown)) return next();
    markActiveFault(FAULT.loggingDown);
    next(new IntakeDownInjected(retryAfterSeconds));
  };
}
