import type { RequestHandler } from 'express';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { hasServiceToken } from '@ca/http';
import { MetricsLoopbackOnly, MetricsUnauthorized } from './errors';

export interface MetricsAccess {
  /** METRICS_TOKEN: when set, every scrape must present it as a Bearer token (from any address). */
  token: string | null;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * GET /metrics in the Prometheus text format, on the service's own express app. Access
 * (docs/security.md): with METRICS_TOKEN, a Bearer token from anywhere; without it, only peers on
 * this host. The peer is the socket's address, never X-Forwarded-For, so no header opens it.
 * Mount it before anything that authenticates API keys. `null` exporter: no route (metrics off).
 * A plain middleware, not an express Router: every request passes it, and one comparison is all
 * it costs a request that is not a scrape (a Router layer per request measured dearer).
 */
export function metricsRoute(prometheus: PrometheusExporter | null, access: MetricsAccess): RequestHandler {
  return (req, res, next) => {
    if (!prometheus || req.path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    if (access.token !== null) {
      if (!hasServiceToken(req.get('authorization'), access.token)) return next(new MetricsUnauthorized());
    } else if (!LOOPBACK.test(req.socket.remoteAddress ?? '')) {
      return next(new MetricsLoopbackOnly());
    }
    prometheus.getMetricsRequestHandler(req, res);
  };
}
