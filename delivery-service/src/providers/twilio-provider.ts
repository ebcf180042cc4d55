import type { Channel } from '@ca/contracts';
import type { Provider, ProviderRequest, ProviderResult } from './provider';
import { retryAfterMs } from './network-errors';

export interface TwilioSettings {
  /** https://api.twilio.com in production; a local fake in tests. */
  baseUrl: string;
  accountSid: string;
  authToken: string;
  /** Sender: an E.164 number (SMS) or the WhatsApp-enabled number; the adapter adds `whatsapp:` itself. */
  from: string;
}

/**
 * SMS and WhatsApp through Twilio's Messages API (POST /2010-04-01/Accounts/{Sid}/Messages.json,
 * HTTP basic auth with the Account SID and Auth Token, form-encoded To/From/Body; WhatsApp
 * addresses carry the `whatsapp:` prefix). Error answers (docs: twilio.com/docs/api/errors):
 *   400 + 21211/21614/21612/21610/63024 → the recipient is unusable: permanent, suppress;
 *   429 / 20429 → "never processed and always safe to retry": rate-limited, not accepted;
 *   other 4xx → permanent (our request or account is wrong), not accepted;
 *   5xx → transient and ambiguous (Twilio may have created the message).
 * Twilio offers no idempotency key on create and no lookup by a client reference, so after an
 * ambiguous failure the dispatcher retries this same provider (never a second one).
 */
const BAD_RECIPIENT = new Set([21211, 21214, 21612, 21614, 21610, 63024, 63003]);

export function createTwilioProvider(name: string, channel: Channel, s: TwilioSettings, clock: { now(): Date }): Provider {
  const auth = `Basic ${Buffer.from(`${s.accountSid}:${s.authToken}`).toString('base64')}`;
  const url = `${s.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(s.accountSid)}/Messages.json`;
  const address = (n: string) => (channel === 'whatsapp' && !n.startsWith('whatsapp:') ? `whatsapp:${n}` : n);
  return {
    name,
    receipts: 'twilio',
    async send(req: ProviderRequest, signal: AbortSignal): Promise<ProviderResult> {
      const form = new URLSearchParams({ To: address(req.to), From: address(s.from), Body: req.body });
      if (req.statusCallbackUrl) form.set('StatusCallback', req.statusCallbackUrl);
      const res = await fetch(url, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: form, signal });
      const body = (await res.json().catch(() => ({}))) as { sid?: string; code?: number; message?: string };
      if (res.status === 201 || res.status === 200) {
        if (!body.sid) return { ok: false, retryable: true, reason: 'twilio answered without a message sid' };
        return { ok: true, providerMessageId: body.sid };
      }
      const code = body.code !== undefined ? String(body.code) : String(res.status);
      const reason = `twilio ${res.status} ${code}: ${body.message ?? res.statusText}`;
      if (res.status === 429 || body.code === 20429) {
        return { ok: false, retryable: true, notAccepted: true, code, reason, retryAfterMs: retryAfterMs(res.headers.get('retry-after'), clock.now(), 1000) ?? 1000 };
      }
      if (body.code !== undefined && BAD_RECIPIENT.has(body.code)) return { ok: false, retryable: false, notAccepted: true, badRecipient: true, code, reason };
      if (res.status >= 400 && res.status < 500) return { ok: false, retryable: false, notAccepted: true, code, reason };
      return { ok: false, retryable: true, code, reason };
    },
  };
}
