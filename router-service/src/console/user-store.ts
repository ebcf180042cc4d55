import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { hashPassword } from './password';

export interface ConsoleUser {
  id: string;
  tenantId: string;
  email: string;
  passwordHash: string;
  failedAttempts: number;
  lockedUntil: Date | null;
}

export interface ConsoleSession {
  userId: string;
  tenantId: string;
  email: string;
  tenantName: string;
  csrfToken: string;
  expiresAt: Date;
}

/** Lockout after this many consecutive failures: 30 s, doubling per further failure, at most 15 min. */
export const FREE_ATTEMPTS = 5;
const FIRST_LOCK_SECONDS = 30;
const MAX_LOCK_SECONDS = 15 * 60;

export function lockSeconds(failedAttempts: number): number {
  if (failedAttempts < FREE_ATTEMPTS) return 0;
  return Math.min(MAX_LOCK_SECONDS, FIRST_LOCK_SECONDS * 2 ** (failedAttempts - FREE_ATTEMPTS));
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function hashSessionId(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

export async function createConsoleUser(db: Knex, input: { tenantId: string; email: string; password: string; now: Date }): Promise<{ id: string; email: string }> {
  const id = randomUUID();
  const email = normaliseEmail(input.email);
  await db('console_users').insert({ id, tenant_id: input.tenantId, email, password_hash: await hashPassword(input.password), created_at: input.now });
  return { id, email };
}

export async function setConsolePassword(db: Knex, email: string, password: string): Promise<boolean> {
  const updated = await db('console_users').where({ email: normaliseEmail(email) })
    .update({ password_hash: await hashPassword(password), failed_attempts: 0, locked_until: null });
  return updated > 0;
}

export async function findConsoleUser(db: Knex, email: string): Promise<ConsoleUser | undefined> {
  const row = await db('console_users').where({ email: normaliseEmail(email) })
    .first<{ id: string; tenant_id: string; email: string; password_hash: string; failed_attempts: number; locked_until: Date | null } | undefined>();
  return row && { id: row.id, tenantId: row.tenant_id, email: row.email, passwordHash: row.password_hash, failedAttempts: row.failed_attempts, lockedUntil: row.locked_until };
}

/** Counts a failure in one statement (concurrent guesses all count) and returns the lock it earned. */
export async function recordFailedSignIn(db: Knex, userId: string, now: Date): Promise<Date | null> {
  const [row] = await db('console_users').where({ id: userId })
    .update({ failed_attempts: db.raw('failed_attempts + 1') })
    .returning<Array<{ failed_attempts: number }>>(['failed_attempts']);
  const seconds = lockSeconds(row?.failed_attempts ?? 0);
  if (seconds === 0) return null;
  const until = new Date(now.getTime() + seconds * 1000);
  await db('console_users').where({ id: userId }).update({ locked_until: until });
  return until;
}

/** A successful sign-in: failures forgotten, a new session (secret returned once, for the cookie). */
export async function startSession(db: Knex, user: ConsoleUser, now: Date, ttlSeconds: number): Promise<{ secret: string; csrfToken: string; expiresAt: Date }> {
  const secret = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
  await db.transaction(async (trx) => {
    await trx('console_users').where({ id: user.id }).update({ failed_attempts: 0, locked_until: null });
    await trx('console_sessions').insert({ id_hash: hashSessionId(secret), user_id: user.id, tenant_id: user.tenantId, csrf_token: csrfToken, created_at: now, expires_at: expiresAt });
  });
  return { secret, csrfToken, expiresAt };
}

export async function findSession(db: Knex, secret: string, now: Date): Promise<ConsoleSession | undefined> {
  const row = await db('console_sessions as s')
    .join('console_users as u', 'u.id', 's.user_id')
    .join('tenants as t', 't.id', 's.tenant_id')
    .select('s.user_id', 's.tenant_id', 's.csrf_token', 's.expires_at', 'u.email', 't.name as tenant_name')
    .where('s.id_hash', hashSessionId(secret))
    .andWhere('s.expires_at', '>', now)
    .first<{ user_id: string; tenant_id: string; csrf_token: string; expires_at: Date; email: string; tenant_name: string } | undefined>();
  return row && { userId: row.user_id, tenantId: row.tenant_id, csrfToken: row.csrf_token, expiresAt: row.expires_at, email: row.email, tenantName: row.tenant_name };
}

export async function endSession(db: Knex, secret: string): Promise<void> {
  await db('console_sessions').where({ id_hash: hashSessionId(secret) }).delete();
}

export async function pruneSessions(db: Knex, now: Date): Promise<void> {
  await db('console_sessions').where('expires_at', '<=', now).delete();
}
