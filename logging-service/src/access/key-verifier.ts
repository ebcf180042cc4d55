import { HttpProblem } from '@ca/http';
import type { KeyVerifier } from './viewer';

/**
 * Asks router-service (POST /internal/v1/keys/introspect, with SERVICE_TOKEN) whether a merchant key
 * is valid, caching answers for `cacheMs` so a page of trace reads costs one lookup while a revoked
 * key still stops working within that time. logging-service holds no copy of the keys.
 */
export function routerKeyVerifier(deps: { routerUrl: string; serviceToken: string | null; cacheMs: number; fetch?: typeof fetch }): KeyVerifier {
  const doFetch = deps.fetch ?? globalThis.fetch;
  const cache = new Map<string, { until: number; value: { tenantId: string; scopes: string[] } | null }>();
  return async (key) => {
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.until > now) return hit.value;
    let res: Response;
    try {
      res = await doFetch(`${deps.routerUrl}/internal/v1/keys/introspect`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(deps.serviceToken ? { authorization: `Bearer ${deps.serviceToken}` } : {}) },
        body: JSON.stringify({ key }),
        signal: AbortSignal.timeout(2000),
      });
    } catch {
      throw new HttpProblem(503, 'KEY_CHECK_UNAVAILABLE', 'Key check unavailable', 'API keys cannot be checked right now; retry later', {}, { 'Retry-After': '2' });
    }
    let value: { tenantId: string; scopes: string[] } | null = null;
    if (res.status === 200) value = (await res.json()) as { tenantId: string; scopes: string[] };
    else {
      await res.body?.cancel();
      if (res.status !== 401) throw new HttpProblem(503, 'KEY_CHECK_UNAVAILABLE', 'Key check unavailable', 'API keys cannot be checked right now; retry later', {}, { 'Retry-After': '2' });
    }
    if (cache.size > 10_000) cache.clear();
    cache.set(key, { until: now + deps.cacheMs, value });
    return value;
  };
}
