import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { addSeconds } from '../clock';
import { DEFAULT_TENANT_ID } from '../db/migrations/0002-tenants';
import { bootstrapKey, generateKey, type NewKey, type Scope } from './api-key';

/** The caller of an authenticated request: which merchant, which key, what it may do. */
export interface Principal {
  tenantId: string;
  keyId: string;
  scopes: readonly Scope[];
  expiresAt: Date | null;
  rateLimit: { burst: number | null; perSecond: number | null };
}

export interface KeyView {
  id: string;
  tenantId: string;
  name: string | null;
  prefix: string;
  scopes: Scope[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

interface KeyRow {
  id: string;
  tenant_id: string;
  name: string | null;
  prefix: string;
  scopes: Scope[];
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
}

const KEY_COLUMNS = ['id', 'tenant_id', 'name', 'prefix', 'scopes', 'created_at', 'expires_at', 'revoked_at'] as const;

export function keyView(row: KeyRow): KeyView {
  return {
    id: row.id, tenantId: row.tenant_id, name: row.name, prefix: row.prefix, scopes: row.scopes,
    createdAt: row.created_at.toISOString(), expiresAt: row.expires_at?.toISOString() ?? null, revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}

/** The live key with this hash (not revoked, not expired at `now`), with its merchant's limits. */
export async function findActiveKey(db: Knex, hash: string, now: Date): Promise<Principal | undefined> {
  const row = await db('api_keys as k')
    .join('tenants as t', 't.id', 'k.tenant_id')
    .select('k.id', 'k.tenant_id', 'k.scopes', 'k.expires_at', 't.rate_limit_burst', 't.rate_limit_per_second')
    .where('k.hash', hash)
    .whereNull('k.revoked_at')
    .andWhere((q) => { void q.whereNull('k.expires_at').orWhere('k.expires_at', '>', now); })
    .first<{ id: string; tenant_id: string; scopes: Scope[]; expires_at: Date | null; rate_limit_burst: number | null; rate_limit_per_second: number | null } | undefined>();
  if (!row) return undefined;
  return {
    tenantId: row.tenant_id, keyId: row.id, scopes: row.scopes, expiresAt: row.expires_at,
    rateLimit: { burst: row.rate_limit_burst, perSecond: row.rate_limit_per_second },
  };
}

export async function createTenant(db: Knex, input: { name: string; now: Date }): Promise<{ id: string; name: string }> {
  const id = randomUUID();
  await db('tenants').insert({ id, name: input.name, created_at: input.now });
  return { id, name: input.name };
}

export async function findTenantByName(db: Knex, name: string): Promise<{ id: string; name: string } | undefined> {
  return db('tenants').select('id', 'name').where({ name }).first<{ id: string; name: string } | undefined>();
}

export async function setTenantRateLimit(db: Knex, tenantId: string, limit: { burst: number | null; perSecond: number | null }): Promise<void> {
  await db('tenants').where({ id: tenantId }).update({ rate_limit_burst: limit.burst, rate_limit_per_second: limit.perSecond });
}

/** Creates a key; the returned `key` is the only time its secret exists outside the caller. */
export async function createKey(
  db: Knex,
  input: { tenantId: string; scopes: readonly Scope[]; name?: string | null; expiresAt?: Date | null; now: Date; generated?: NewKey },
): Promise<{ key: string; view: KeyView }> {
  const generated = input.generated ?? generateKey();
  const [row] = await db('api_keys').insert({
    id: randomUUID(), tenant_id: input.tenantId, name: input.name ?? null, prefix: generated.prefix, hash: generated.hash,
    scopes: [...input.scopes], created_at: input.now, expires_at: input.expiresAt ?? null,
  }).returning<KeyRow[]>([...KEY_COLUMNS]);
  return { key: generated.key, view: keyView(row!) };
}

export async function listKeys(db: Knex, tenantId: string): Promise<KeyView[]> {
  const rows = await db('api_keys').select<KeyRow[]>([...KEY_COLUMNS]).where({ tenant_id: tenantId }).orderBy('created_at');
  return rows.map(keyView);
}

/** Revokes now; false when the key does not exist for this tenant (another tenant's id is "not found"). */
export async function revokeKey(db: Knex, tenantId: string, keyId: string, now: Date): Promise<KeyView | undefined> {
  const [row] = await db('api_keys').where({ id: keyId, tenant_id: tenantId })
    .update({ revoked_at: db.raw('coalesce(revoked_at, ?)', [now]) })
    .returning<KeyRow[]>([...KEY_COLUMNS]);
  return row ? keyView(row) : undefined;
}

/**
 * Rotation: a new key with the same scopes; the old one keeps working for `overlapSeconds` (so a
 * fleet can switch over) and then expires. Both in one transaction.
 */
export async function rotateKey(
  db: Knex,
  input: { tenantId: string; keyId: string; overlapSeconds: number; now: Date },
): Promise<{ key: string; view: KeyView; previous: KeyView } | undefined> {
  return db.transaction(async (trx) => {
    const old = await trx('api_keys').select<KeyRow[]>([...KEY_COLUMNS]).where({ id: input.keyId, tenant_id: input.tenantId }).whereNull('revoked_at').forUpdate().first();
    if (!old) return undefined;
    const until = addSeconds(input.now, input.overlapSeconds);
    const expiresAt = old.expires_at && old.expires_at < until ? old.expires_at : until;
    const [previous] = await trx('api_keys').where({ id: old.id }).update({ expires_at: expiresAt }).returning<KeyRow[]>([...KEY_COLUMNS]);
    const created = await createKey(trx, { tenantId: input.tenantId, scopes: old.scopes, name: old.name, expiresAt: null, now: input.now });
    return { ...created, previous: keyView(previous!) };
  });
}

/**
 * BOOTSTRAP_API_KEY: the `default` merchant gets an admin key whose secret is exactly that value.
 * Idempotent and safe from several processes at once (the hash is unique).
 */
export async function ensureBootstrapKey(db: Knex, secret: string, now: Date): Promise<void> {
  const generated = bootstrapKey(secret);
  await db('tenants').insert({ id: DEFAULT_TENANT_ID, name: 'default', created_at: now }).onConflict('name').ignore();
  const tenant = await findTenantByName(db, 'default');
  await db('api_keys').insert({
    id: randomUUID(), tenant_id: tenant!.id, name: 'bootstrap', prefix: generated.prefix, hash: generated.hash,
    scopes: ['send', 'read', 'admin'], created_at: now, expires_at: null,
  }).onConflict('hash').ignore();
}
