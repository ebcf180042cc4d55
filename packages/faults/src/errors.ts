import { HttpProblem } from '@ca/http';
import type { FaultFieldError } from './fault-set';

/**
 * Every error the faults admin API and the fault-gated intake answer with (README "Problem codes").
 * An unset ADMIN_TOKEN is not an error: the routes do not exist (404 from the service's fallback).
 */
export class AdminUnauthorized extends HttpProblem {
  constructor() {
    super(401, 'ADMIN_UNAUTHORIZED', 'Unauthorized', 'Send "Authorization: Bearer <ADMIN_TOKEN>"',
      {}, { 'WWW-Authenticate': 'Bearer realm="admin"' });
  }
}

export class FaultsInvalid extends HttpProblem {
  constructor(readonly errors: FaultFieldError[]) {
    super(400, 'FAULTS_INVALID', 'Invalid fault settings', `${errors.length} invalid field(s)`, { errors });
  }
}

/** What logging-service's OTLP intake answers while `logging.down` is on; exporters retry after Retry-After. */
export class IntakeDownInjected extends HttpProblem {
  constructor(retryAfterSeconds: number) {
    super(503, 'INTAKE_UNAVAILABLE', 'Intake unavailable', 'The intake is down (injected fault logging.down); retry later',
      {}, { 'Retry-After': String(retryAfterSeconds) });
  }
}
