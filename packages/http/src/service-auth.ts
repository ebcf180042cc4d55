import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpProblem } from './problem';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** True when `authorization` is `Bearer <token>`; compared in constant time (over digests, so lengths do not leak). */
export function hasServiceToken(authorization: string | undefined, token: string): boolean {
  const presented = /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1];
  return presented !== undefined && timingSafeEqual(digest(presented), digest(token));
}

export class ServiceUnauthorized extends HttpProblem {
  constructor() {
    super(401, 'UNAUTHORIZED', 'Unauthorized', 'This endpoint is for the system\'s own services: send "Authorization: Bearer <SERVICE_TOKEN>"',
      {}, { 'WWW-Authenticate': 'Bearer realm="internal"' });
  }
}

/**
 * Service-to-service authentication with one shared credential (SERVICE_TOKEN): delivery-service's
 * internal API and logging-service's OTLP intake. `null` leaves the route open (a service started
 * without the variable logs a warning; `npm start` always generates one).
 */
export function requireServiceToken(token: string | null): RequestHandler {
  return (req, _res, next) => {
    next(token === null || hasServiceToken(req.get('authorization'), token) ? undefined : new ServiceUnauthorized());
  };
}
