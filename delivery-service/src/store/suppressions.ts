import type { Channel } from '@ca/contracts';
import type { Db } from '@ca/postgres';

export interface Suppression {
  channel: Channel;
  recipient: string;
  reason: string;
  provider: string | null;
  messageId: string | null;
  createdAt: string;
}

/**
 * A tenant's suppression list: addresses a provider reported as unusable (hard bounce, invalid
 * number, unregistered token). A message to a suppressed address fails permanently without a
 * provider call; removing the entry (the merchant fixed the address) lets sends through again.
 */
export interface SuppressionStore {
  isSuppressed(tenantId: string, channel: Channel, recipient: string): Promise<boolean>;
  add(tenantId: string, entry: Omit<Suppression, 'createdAt'>, now: Date): Promise<void>;
  list(tenantId: string, opts: { channel?: Channel; limit: number }): Promise<Suppression[]>;
  remove(tenantId: string, channel: Channel, recipient: string): Promise<boolean>;
}

/** Addresses compare case-insensitively for email (the domain always is; mailbox case is rarely honoured). */
export const normaliseRecipient = (channel: Channel, recipient: string) => (channel === 'email' ? recipient.trim().toLowerCase() : recipient.trim());

export function createSuppressionStore(db: Db): SuppressionStore {
  return {
    async isSuppressed(tenantId, channel, recipient) {
      const row = await db('suppressions').where({ tenant_id: tenantId, channel, recipient: normaliseRecipient(channel, recipient) }).first('tenant_id');
      return row !== undefined;
    },
    async add(tenantId, e, now) {
      await db('suppressions')
        .insert({ tenant_id: tenantId, channel: e.channel, recipient: normaliseRecipient(e.channel, e.recipient), reason: e.reason.slice(0, 500), provider: e.provider, message_id: e.messageId, created_at: now })
        .onConflict(['tenant_id', 'channel', 'recipient']).ignore();
    },
    async list(tenantId, { channel, limit }) {
      const q = db('suppressions').where({ tenant_id: tenantId }).orderBy('created_at', 'desc').limit(limit);
      if (channel) q.andWhere({ channel });
      const rows = await q;
      return rows.map((r: Record<string, unknown>) => ({
        channel: r.channel as Channel,
        recipient: r.recipient as string,
        reason: r.reason as string,
        provider: (r.provider as string | null) ?? null,
        messageId: (r.message_id as string | null) ?? null,
        createdAt: (r.created_at as Date).toISOString(),
      }));
    },
    async remove(tenantId, channel, recipient) {
      return (await db('suppressions').where({ tenant_id: tenantId, channel, recipient: normaliseRecipient(channel, recipient) }).delete()) > 0;
    },
  };
}
