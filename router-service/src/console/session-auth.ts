import { timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import type { Principal } from '../auth/key-store';
import { CsrfRejected, Unauthorized } from '../errors';
import { findSession, type ConsoleSession } from './user-store';

/**
 * `__Host-`: the browser accepts the cookie only with Secure, Path=/ and no Domain, so a sibling
 * subdomain or a plain-HTTP page cannot plant or overwrite it.
 */
export const SESSION_COOKIE = '__Host-ca_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function sessionSecretOf(req: Request): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{20,100}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

export function sessionCookie(secret: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${secret}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0`;
}

/**
 * A state change from a browser must come from our own pages: its Origin (or, failing that, its
 * Referer) is this server's origin. SameSite=Strict already keeps the cookie off cross-site
 * requests; this is the second, independent check OWASP recommends.
 */
export function isSameOrigin(req: Request): boolean {
  const expected = `${req.protocol}://${req.get('host') ?? ''}`;
  const origin = req.get('origin');
  if (origin !== undefined) return origin === expected;
  const referer = req.get('referer');
  if (!referer) return false;
  try {
    return new URL(referer).origin === expected;
  } catch {
    return false;
  }
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The checks every session-authenticated state change passes: same origin and the session's CSRF token. */
export function checkCsrf(req: Request, session: ConsoleSession): void {
  if (SAFE_METHODS.has(req.method)) return;
  if (!isSameOrigin(req)) throw new CsrfRejected('origin');
  const token = req.get(CSRF_HEADER);
  if (!token || !sameToken(token, session.csrfToken)) throw new CsrfRejected('token');
}

/**
 * The session cookie as a Principal for /v1, exactly what the merchant's admin key may do. Console
 * traffic is a person clicking; the per-key token bucket does not apply (burst 0 turns it off), the
 * sign-in lockout guards the door instead.
 */
export async function sessionPrincipal(db: Knex, req: Request, res: Response, now: Date): Promise<Principal> {
  const secret = sessionSecretOf(req);
  if (!secret) throw new Unauthorized('missing');
  const session = await findSession(db, secret, now);
  if (!session) throw new Unauthorized('invalid');
  checkCsrf(req, session);
  res.locals.session = session;
  return {
    tenantId: session.tenantId, keyId: session.userId, scopes: ['send', 'read', 'admin'], expiresAt: session.expiresAt,
    rateLimit: { burst: 0, perSecond: 0 },
  };
}
