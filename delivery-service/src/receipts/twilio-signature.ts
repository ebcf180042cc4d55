import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Twilio's request signature (twilio.com/docs/usage/security#validating-requests): take the full
 * URL Twilio requested (scheme, host, port, path and query string, exactly as configured in
 * StatusCallback), append every POST parameter sorted by name, each as name immediately followed by
 * value (no separators; a repeated name contributes each of its values, sorted), HMAC-SHA1 the
 * result with the account's Auth Token, base64. Sent as `X-Twilio-Signature`.
 */
export function twilioSignature(authToken: string, url: string, params: URLSearchParams): string {
  const names = [...new Set(params.keys())].sort();
  let data = url;
  for (const name of names) for (const value of params.getAll(name).sort()) data += name + value;
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** Constant-time check of `signature` against each candidate Auth Token; the token that signed it, or null. */
export function verifyTwilioSignature<T extends { authToken: string }>(candidates: readonly T[], signature: string | undefined, url: string, params: URLSearchParams): T | null {
  if (!signature) return null;
  const given = Buffer.from(signature);
  for (const c of candidates) {
    const expected = Buffer.from(twilioSignature(c.authToken, url, params));
    if (expected.length === given.length && timingSafeEqual(expected, given)) return c;
  }
  return null;
}
