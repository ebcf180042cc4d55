import { HttpProblem } from '@ca/http';

/**
 * The errors GET /metrics answers with (docs/security.md "Metrics endpoint"). Both are about who
 * asks, so neither is worth a retry with the same credentials.
 *
 * | code                  | status | when |
 * | --------------------- | ------ | ---- |
 * | METRICS_UNAUTHORIZED  | 401    | METRICS_TOKEN is set and the request lacks `Authorization: Bearer <METRICS_TOKEN>` |
 * | METRICS_LOOPBACK_ONLY | 403    | METRICS_TOKEN is not set and the peer is not on this host |
 */
export class MetricsUnauthorized extends HttpProblem {
  constructor() {
    super(401, 'METRICS_UNAUTHORIZED', 'Unauthorized', 'Send "Authorization: Bearer <METRICS_TOKEN>" to scrape /metrics',
      {}, { 'WWW-Authenticate': 'Bearer realm="metrics"' });
  }
}

export class MetricsLoopbackOnly extends HttpProblem {
  constructor() {
    super(403, 'METRICS_LOOPBACK_ONLY', 'Forbidden', 'Without METRICS_TOKEN, /metrics answers only scrapers on this host (loopback)');
  }
}
