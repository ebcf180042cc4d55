import { createSign } from 'node:crypto';

/** The fields of a Google service-account key file the token exchange needs. */
export interface ServiceAccount {
  clientEmail: string;
  privateKey: string;
  /** https://oauth2.googleapis.com/token in production (the key file's token_uri). */
  tokenUri: string;
}

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

/**
 * OAuth 2.0 for service accounts (developers.google.com/identity/protocols/oauth2/service-account):
 * a JWT {iss, scope, aud: token_uri, iat, exp ≤ iat+3600} signed RS256 with the account's private
 * key, POSTed as grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer; the answer's access_token
 * is cached until a minute before expires_in runs out.
 */
export function createGoogleTokenSource(sa: ServiceAccount, scope: string, clock: { now(): Date }) {
  let cached: { token: string; until: number } | null = null;
  let pending: Promise<string> | null = null;

  async function fetchToken(signal: AbortSignal): Promise<string> {
    const iat = Math.floor(clock.now().getTime() / 1000);
    const unsigned = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64url(JSON.stringify({ iss: sa.clientEmail, scope, aud: sa.tokenUri, iat, exp: iat + 3600 }))}`;
    const signature = createSign('RSA-SHA256').update(unsigned).sign(sa.privateKey);
    const res = await fetch(sa.tokenUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: `${unsigned}.${b64url(signature)}` }),
      signal,
    });
    const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string };
    if (!res.ok || !body.access_token) throw new Error(`token endpoint answered ${res.status}${body.error ? ` ${body.error}` : ''}`);
    cached = { token: body.access_token, until: clock.now().getTime() + Math.max(0, (body.expires_in ?? 3600) - 60) * 1000 };
    return body.access_token;
  }

  return {
    async token(signal: AbortSignal): Promise<string> {
      if (cached && cached.until > clock.now().getTime()) return cached.token;
      pending ??= fetchToken(signal).finally(() => { pending = null; });
      return pending;
    },
    invalidate() {
      cached = null;
    },
  };
}
