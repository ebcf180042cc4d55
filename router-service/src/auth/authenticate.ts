import type { NextFunction, RequestHandler, Response } from 'express';
import type { Knex } from 'knex';
import { context, trace } from '@opentelemetry/api';
import { getRPCMetadata } from '@opentelemetry/core';
import { ATTR } from '@ca/contracts';
import { HttpProblem } from '@ca/http';
import type { Clock } from '../clock';
import { InsufficientScope, StorageUnavailable, Unauthorized, isStorageUnavailable } from '../errors';
import { hashKey, isWellFormedKey, type Scope } from './api-key';
import { findActiveKey, type Principal } from './key-store';
import { sessionPrincipal } from '../console/session-auth';

export interface AuthenticateDeps {
  db: Knex;
  clock: Clock;
  /**
   * How long a process trusts a key it has looked up. This bounds how late a revocation takes
   * effect on every router process (no cross-process signal needed); 500 ms keeps it under 1 s.
   */
  cacheMs: number;
}

const MAX_CACHED = 10_000;
const BEARER = /^Bearer +(\S+) *$/i;

/**
 * Resolves `Authorization: Bearer <key>` (or, without one, the console's session cookie) to a
 * Principal (res.locals.principal) or answers 401.
 * Keys are found by the SHA-256 of the whole key (unique index); found keys are cached briefly.
 */
export function authenticate(deps: AuthenticateDeps): RequestHandler {
  const cache = new Map<string, { principal: Principal; until: number }>();
  return (req, res, next) => {
    const header = req.get('authorization');
    // No key: the console's session cookie (with its CSRF checks) may stand in for the admin key.
    if (header === undefined || header === '') return authenticated(sessionPrincipal(deps.db, req, res, deps.clock.now()), res, next);
    const token = BEARER.exec(header)?.[1];
    if (token === undefined || !isWellFormedKey(token)) return next(new Unauthorized('malformed'));
    const hash = hashKey(token);
    const now = deps.clock.now();
    const hit = cache.get(hash);
    const resolve = hit && hit.until > now.getTime()
      ? Promise.resolve(hit.principal)
      : findActiveKey(deps.db, hash, now).then((found) => {
        if (found) {
          if (cache.size >= MAX_CACHED) cache.clear();
          cache.set(hash, { principal: found, until: now.getTime() + deps.cacheMs });
        } else cache.delete(hash);
        return found;
      });
    authenticated(resolve.then((principal) => {
      if (!principal || (principal.expiresAt && principal.expiresAt <= now)) throw new Unauthorized('invalid');
      return principal;
    }), res, next);
  };
}

function authenticated(resolve: Promise<Principal>, res: Response, next: NextFunction): void {
  resolve.then((principal) => {
    res.locals.principal = principal;
    // On the HTTP server span (the http instrumentation keeps it in the RPC metadata), which every
    // span of this request's journey descends from: logging-service shows a merchant that subtree.
    (getRPCMetadata(context.active())?.span ?? trace.getActiveSpan())?.setAttribute(ATTR.tenantId, principal.tenantId);
    next();
  }, (err: unknown) => next(err instanceof HttpProblem || !isStorageUnavailable(err) ? err : new StorageUnavailable()));
}

export function requireScope(scope: Scope): RequestHandler {
  return (_req, res, next) => {
    next(principalOf(res).scopes.includes(scope) ? undefined : new InsufficientScope(scope));
  };
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new Error('principalOf: route is not behind authenticate()');
  return principal;
}
