import type { Provider, ProviderRequest, ProviderResult } from './provider';
import { createGoogleTokenSource, type ServiceAccount } from './google-token';
import { retryAfterMs } from './network-errors';

export interface FcmSettings {
  /** https://fcm.googleapis.com in production. */
  baseUrl: string;
  projectId: string;
  serviceAccount: ServiceAccount;
}

/**
 * Push through FCM HTTP v1: a service-account JWT (RS256) exchanged for an OAuth access token
 * (google-token.ts), then POST /v1/projects/{projectId}/messages:send with
 * `{ message: { token, notification: { title, body } } }`; success answers `{ name }`.
 * Errors (firebase.google.com/docs/cloud-messaging/error-codes) carry
 * `error.details[].errorCode` (google.firebase.fcm.v1.FcmError) or `error.status`:
 *   UNREGISTERED (404), INVALID_ARGUMENT (400) → the token is unusable: permanent, suppress;
 *   SENDER_ID_MISMATCH (403), THIRD_PARTY_AUTH_ERROR (401) → permanent, not accepted;
 *   QUOTA_EXCEEDED (429) → rate-limited (Retry-After), not accepted;
 *   UNAVAILABLE (503) → transient, not accepted (FCM asks to retry with backoff);
 *   INTERNAL (500) and anything else → transient, ambiguous.
 * FCM has no idempotency key and no lookup: after an ambiguous failure the same provider is retried.
 */
export function createFcmProvider(name: string, s: FcmSettings, clock: { now(): Date }): Provider {
  const tokens = createGoogleTokenSource(s.serviceAccount, 'https://www.googleapis.com/auth/firebase.messaging', clock);
  const url = `${s.baseUrl.replace(/\/+$/, '')}/v1/projects/${encodeURIComponent(s.projectId)}/messages:send`;
  return {
    name,
    async send(req: ProviderRequest, signal: AbortSignal): Promise<ProviderResult> {
      let token: string;
      try {
        token = await tokens.token(signal);
      } catch (err) {
        // No token: nothing was sent to FCM.
        return { ok: false, retryable: true, notAccepted: true, reason: `fcm access token: ${(err as Error).message}` };
      }
      const message = { token: req.to, notification: { ...(req.subject ? { title: req.subject } : {}), body: req.body }, data: { messageId: req.idempotencyKey } };
      const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ message }), signal });
      const body = (await res.json().catch(() => ({}))) as { name?: string; error?: { code?: number; message?: string; status?: string; details?: Array<{ errorCode?: string }> } };
      if (res.ok && body.name) return { ok: true, providerMessageId: body.name };
      if (res.status === 401) tokens.invalidate();
      const code = body.error?.details?.find((d) => d.errorCode)?.errorCode ?? body.error?.status ?? String(res.status);
      const reason = `fcm ${res.status} ${code}: ${body.error?.message ?? res.statusText}`;
      switch (code) {
        case 'UNREGISTERED':
        case 'INVALID_ARGUMENT':
          return { ok: false, retryable: false, notAccepted: true, badRecipient: true, code, reason };
        case 'SENDER_ID_MISMATCH':
        case 'THIRD_PARTY_AUTH_ERROR':
        case 'PERMISSION_DENIED':
          return { ok: false, retryable: false, notAccepted: true, code, reason };
        case 'QUOTA_EXCEEDED':
        case 'RESOURCE_EXHAUSTED':
          return { ok: false, retryable: true, notAccepted: true, code, reason, retryAfterMs: retryAfterMs(res.headers.get('retry-after'), clock.now(), 1000) ?? 1000 };
        case 'UNAVAILABLE':
          return { ok: false, retryable: true, notAccepted: true, code, reason, ...(res.headers.get('retry-after') ? { retryAfterMs: retryAfterMs(res.headers.get('retry-after'), clock.now()) ?? 1000 } : {}) };
        case 'UNAUTHENTICATED':
          return { ok: false, retryable: true, notAccepted: true, code, reason };
        default:
          return { ok: false, retryable: true, code, reason };
      }
    },
  };
}
