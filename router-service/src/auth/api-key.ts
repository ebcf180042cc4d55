import { createHash, randomBytes } from 'node:crypto';

/** Recognisable in a leaked log or a secret scanner's rules; `live` leaves room for a `test` mode. */
export const KEY_PREFIX = 'ca_live_';

export const SCOPES = ['send', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * What a bearer token may look like before we even hash it: RFC 6750 b64token characters, a sane
 * length. Anything else (non-ASCII, spaces, a 10 kB header) is refused without a database lookup.
 */
const TOKEN_PATTERN = /^[A-Za-z0-9\-._~+/]+=*$/;
export const MIN_KEY_LENGTH = 24;
export const MAX_KEY_LENGTH = 200;

export function isWellFormedKey(token: string): boolean {
  return token.length >= MIN_KEY_LENGTH && token.length <= MAX_KEY_LENGTH && TOKEN_PATTERN.test(token);
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export interface NewKey {
  /** The full secret, shown once to the caller and never stored. */
  key: string;
  /** `ca_live_` + the key's public part: safe to store, list and log; tells a merchant which key it was. */
  prefix: string;
  hash: string;
}

/** `ca_live_` + 8 public characters + 43 characters of secret (32 random bytes, base64url). */
export function generateKey(random: (n: number) => Buffer = randomBytes): NewKey {
  const publicPart = random(6).toString('base64url');
  const secret = random(32).toString('base64url');
  const key = `${KEY_PREFIX}${publicPart}${secret}`;
  return { key, prefix: `${KEY_PREFIX}${publicPart}`, hash: hashKey(key) };
}

/** The operator's BOOTSTRAP_API_KEY: stored like any other key; its prefix never reveals the secret. */
export function bootstrapKey(key: string): NewKey {
  return { key, prefix: 'bootstrap', hash: hashKey(key) };
}

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}
