import type { RequestHandler, Response } from 'express';
import { ATTR } from '@ca/contracts';
import { HttpProblem, hasServiceToken } from '@ca/http';

/** Who reads traces and logs: an operator (SERVICE_TOKEN) sees everything, a merchant its own spans. */
export type Viewer = { kind: 'operator' } | { kind: 'tenant'; tenantId: string };

/** Checks a merchant's API key (router-service owns keys); null: not a valid key. */
export type KeyVerifier = (key: string) => Promise<{ tenantId: string; scopes: string[] } | null>;

export interface ReadAccess {
  serviceToken: string | null;
  verifyKey: KeyVerifier;
}

const REALM = 'Bearer realm="communication-aggregator"';

export class ReadUnauthorized extends HttpProblem {
  constructor() {
    super(401, 'UNAUTHORIZED', 'Unauthorized', 'Send a merchant API key with the "read" scope (or the operator credential) as "Authorization: Bearer <key>"',
      {}, { 'WWW-Authenticate': REALM });
  }
}

export class ReadForbidden extends HttpProblem {
  constructor() {
    super(403, 'INSUFFICIENT_SCOPE', 'Insufficient scope', 'This API key lacks the "read" scope', { requiredScope: 'read' },
      { 'WWW-Authenticate': `${REALM}, error="insufficient_scope", scope="read"` });
  }
}

const BEARER = /^Bearer +(\S+) *$/i;

/** Resolves the caller into res.locals.viewer, or answers 401/403. Unknown keys and merchants' keys are told apart by router-service. */
export function requireViewer(access: ReadAccess): RequestHandler {
  return (req, res, next) => {
    const header = req.get('authorization');
    if (access.serviceToken !== null && hasServiceToken(header, access.serviceToken)) {
      res.locals.viewer = { kind: 'operator' } satisfies Viewer;
      return next();
    }
    const key = header ? BEARER.exec(header)?.[1] : undefined;
    if (!key || key.length > 200) return next(new ReadUnauthorized());
    access.verifyKey(key).then((principal) => {
      if (!principal) return next(new ReadUnauthorized());
      if (!principal.scopes.includes('read')) return next(new ReadForbidden());
      res.locals.viewer = { kind: 'tenant', tenantId: principal.tenantId } satisfies Viewer;
      next();
    }, next);
  };
}

export function viewerOf(res: Response): Viewer {
  return (res.locals.viewer as Viewer | undefined) ?? { kind: 'operator' };
}

/** The span attribute that names a span's merchant (labels.ca_tenant_id in APM documents). */
export const TENANT_ATTRIBUTE = ATTR.tenantId;
