/**
 * Whether a thrown client error proves the request never reached the provider: the connection
 * was refused or the name did not resolve, so nothing was sent. Anything else (a timeout, a reset
 * after the request was written) is ambiguous: the provider may have accepted the message.
 */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'ERR_TLS_CERT_ALTNAME_INVALID', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED']);

export function neverConnected(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && NEVER_CONNECTED.has(e.code)) return true;
    if (Array.isArray((e as { errors?: unknown[] }).errors)) {
      // AggregateError from happy-eyeballs: every address refused.
      const all = (e as { errors: unknown[] }).errors;
      if (all.length > 0 && all.every(neverConnected)) return true;
    }
  }
  return false;
}

export function describeError(err: unknown): string {
  const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') return 'provider call timed out';
  const code = e?.code ?? e?.cause?.code;
  return `${e?.message ?? String(err)}${code ? ` (${code})` : ''}`;
}

/** Parses Retry-After (seconds or an HTTP date) into milliseconds; null when absent or unusable. */
export function retryAfterMs(header: string | null, now: Date, fallbackMs: number | null = null): number | null {
  if (!header) return fallbackMs;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? fallbackMs : Math.max(0, at - now.getTime());
}
