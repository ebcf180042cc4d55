import express, { Router, type Request } from 'express';
import Joi from 'joi';
import type { Knex } from 'knex';
import type { Logger } from '@ca/telemetry';
import type { Clock } from '../clock';
import { CsrfRejected, SignInFailed, SignInLocked, Unauthorized, UnsupportedMediaType, ValidationFailed } from '../errors';
import { DECOY_HASH_PROMISE, MAX_PASSWORD_LENGTH, verifyPassword } from './password';
import { checkCsrf, clearedSessionCookie, isSameOrigin, sessionCookie, sessionSecretOf } from './session-auth';
import { endSession, findConsoleUser, findSession, recordFailedSignIn, startSession, type ConsoleSession } from './user-store';

export interface SessionRouterDeps {
  db: Knex;
  clock: Clock;
  logger: Logger;
  ttlSeconds: number;
}

const signInSchema = Joi.object<{ email: string; password: string }>({
  email: Joi.string().max(254).required(),
  password: Joi.string().max(MAX_PASSWORD_LENGTH).required(),
}).unknown(false);

function view(session: Pick<ConsoleSession, 'userId' | 'email' | 'tenantId' | 'tenantName' | 'csrfToken' | 'expiresAt'>) {
  return {
    user: { id: session.userId, email: session.email },
    merchant: { id: session.tenantId, name: session.tenantName },
    csrfToken: session.csrfToken,
    expiresAt: session.expiresAt.toISOString(),
  };
}

/**
 * /v1/session: the console's sign-in (POST), who am I + CSRF token (GET), sign-out (DELETE). Mounted
 * before /v1's authentication: signing in is how a browser gets credentials.
 */
export function sessionRouter(deps: SessionRouterDeps): Router {
  const router = Router();
  const json = express.json({ limit: '4kb' });
  const current = async (req: Request) => {
    const secret = sessionSecretOf(req);
    const session = secret ? await findSession(deps.db, secret, deps.clock.now()) : undefined;
    if (!secret || !session) throw new Unauthorized(secret ? 'invalid' : 'missing');
    return { secret, session };
  };

  router.post('/', json, async (req, res) => {
    // Login CSRF: a foreign page must not sign a browser in to the attacker's account.
    if (!isSameOrigin(req)) throw new CsrfRejected('origin');
    if (!req.is('application/json')) throw new UnsupportedMediaType();
    const { value, error } = signInSchema.validate(req.body ?? {}, { abortEarly: false });
    if (error) throw new ValidationFailed(error.details.map((d) => ({ field: d.path.join('.'), message: d.message, type: d.type })));
    const now = deps.clock.now();
    const user = await findConsoleUser(deps.db, value.email);
    if (!user) {
      await verifyPassword(value.password, await DECOY_HASH_PROMISE); // same work as for a real account
      throw new SignInFailed();
    }
    if (user.lockedUntil && user.lockedUntil > now) throw new SignInLocked(Math.ceil((user.lockedUntil.getTime() - now.getTime()) / 1000));
    if (!(await verifyPassword(value.password, user.passwordHash))) {
      const lockedUntil = await recordFailedSignIn(deps.db, user.id, now);
      deps.logger.info('console sign-in failed', { userId: user.id, locked: lockedUntil !== null });
      if (lockedUntil) throw new SignInLocked(Math.ceil((lockedUntil.getTime() - now.getTime()) / 1000));
      throw new SignInFailed();
    }
    const started = await startSession(deps.db, user, now, deps.ttlSeconds);
    deps.logger.info('console sign-in', { userId: user.id, tenantId: user.tenantId });
    const session = (await findSession(deps.db, started.secret, now))!;
    res.setHeader('Set-Cookie', sessionCookie(started.secret, deps.ttlSeconds));
    res.setHeader('Cache-Control', 'no-store');
    res.json(view(session));
  });

  router.get('/', async (req, res) => {
    const { session } = await current(req);
    res.setHeader('Cache-Control', 'no-store');
    res.json(view(session));
  });

  router.delete('/', async (req, res) => {
    const { secret, session } = await current(req);
    checkCsrf(req, session);
    await endSession(deps.db, secret);
    deps.logger.info('console sign-out', { userId: session.userId });
    res.setHeader('Set-Cookie', clearedSessionCookie());
    res.status(204).end();
  });

  return router;
}
