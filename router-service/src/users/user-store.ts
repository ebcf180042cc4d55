import type { Knex } from 'knex';
import { CHANNELS, maskRecipient, type Channel, type UserView } from '@ca/contracts';
import type { UserInput } from './user-schema';

interface UserRow {
  user_id: string;
  addresses: Partial<Record<Channel, string[]>>;
  locale: string | null;
  time_zone: string | null;
  preferences: UserInput['preferences'];
  created_at: Date;
  updated_at: Date;
}

export function userView(row: UserRow): UserView {
  return {
    userId: row.user_id,
    addresses: Object.fromEntries(CHANNELS.map((c) => [c, row.addresses[c] ?? []])) as Record<Channel, string[]>,
    locale: row.locale,
    timeZone: row.time_zone,
    preferences: { optOut: { channels: row.preferences.optOut?.channels ?? [], categories: row.preferences.optOut?.categories ?? [] } },
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Creates or replaces a profile; `created` tells 201 from 200 (xmax = 0: the row was inserted, not updated). */
export async function putUser(db: Knex, input: { tenantId: string; userId: string; user: UserInput; now: Date }): Promise<{ view: UserView; created: boolean }> {
  const u = input.user;
  const result = await db.raw<{ rows: Array<UserRow & { inserted: boolean }> }>(
    `INSERT INTO users (tenant_id, user_id, addresses, locale, time_zone, preferences, created_at, updated_at)
     VALUES (?, ?, ?::jsonb, ?, ?, ?::jsonb, ?, ?)
     ON CONFLICT (tenant_id, user_id) DO UPDATE SET addresses = excluded.addresses, locale = excluded.locale,
       time_zone = excluded.time_zone, preferences = excluded.preferences, updated_at = excluded.updated_at
     RETURNING *, (xmax = 0) AS inserted`,
    [input.tenantId, input.userId, JSON.stringify(u.addresses), u.locale, u.timeZone, JSON.stringify(u.preferences), input.now, input.now],
  );
  const row = result.rows[0]!;
  return { view: userView(row), created: row.inserted };
}

export async function findUser(db: Knex, tenantId: string, userId: string): Promise<UserView | null> {
  const row = await db('users').select('*').where({ tenant_id: tenantId, user_id: userId }).first<UserRow | undefined>();
  return row ? userView(row) : null;
}

/** Ids of the messages sent to a user (what delivery-service must mask too). */
export async function userMessageIds(db: Knex, tenantId: string, userId: string): Promise<string[]> {
  return db('messages').where({ tenant_id: tenantId, user_id: userId }).pluck('id');
}

/**
 * Erases a user: the profile (all addresses) goes, and every stored message sent to them keeps its
 * row (counts, statuses, template ids stay) with the recipient replaced by its masked form, all in
 * one transaction. Returns how many messages were masked, or null when there was no such user.
 */
export async function eraseUser(db: Knex, tenantId: string, userId: string): Promise<number | null> {
  return db.transaction(async (trx) => {
    const deleted = await trx('users').where({ tenant_id: tenantId, user_id: userId }).delete();
    if (deleted === 0) return null;
    const rows = await trx('messages').select('id', 'channel', 'recipient').where({ tenant_id: tenantId, user_id: userId })
      .forUpdate() as Array<{ id: string; channel: Channel; recipient: string }>;
    if (rows.length === 0) return 0;
    await trx.raw(
      `UPDATE messages m SET recipient = u.masked FROM unnest(?::uuid[], ?::text[]) AS u(id, masked) WHERE m.id = u.id AND m.tenant_id = ?`,
      [rows.map((r) => r.id), rows.map((r) => maskRecipient(r.channel, r.recipient)), tenantId],
    );
    return rows.length;
  });
}
