import type { Channel } from '@ca/contracts';
import type { Db } from '@ca/postgres';
import type { CredentialCipher } from './credential-cipher';

export const PROVIDER_KINDS = { smtp: ['email'], twilio: ['sms', 'whatsapp'], fcm: ['push'], simulated: ['email', 'sms', 'whatsapp', 'push'] } as const satisfies Record<string, readonly Channel[]>;
export type ProviderKind = keyof typeof PROVIDER_KINDS;
export type RouteMode = 'ordered' | 'weighted';

/** One provider of a tenant's channel route, as stored (credentials still sealed). */
export interface ProviderConfig {
  tenantId: string;
  channel: Channel;
  name: string;
  kind: ProviderKind;
  position: number;
  weight: number;
  mode: RouteMode;
  settings: Record<string, unknown>;
  /** AES-256-GCM sealed credentials (credential-cipher.ts); null when the kind needs none. */
  credentialsSealed: string | null;
  updatedAt: Date;
}

export interface RouteInput {
  mode: RouteMode;
  providers: Array<{ name: string; kind: ProviderKind; weight?: number; settings: Record<string, unknown>; credentials?: Record<string, string> }>;
}

/** Additional data the credentials are sealed with: they open only for this tenant, channel and provider. */
export const credentialsAad = (tenantId: string, channel: string, name: string) => `${tenantId}/${channel}/${name}`;

/** A tenant's provider routes: stored per tenant+channel, replaced as a whole. */
export interface ProviderConfigStore {
  route(tenantId: string, channel: Channel): Promise<ProviderConfig[]>;
  /** Replaces the channel's route; a provider sent without credentials keeps the ones stored under its name. */
  putRoute(tenantId: string, channel: Channel, input: RouteInput, now: Date): Promise<ProviderConfig[]>;
  deleteRoute(tenantId: string, channel: Channel): Promise<boolean>;
  routes(tenantId: string): Promise<ProviderConfig[]>;
}

export class MissingCredentialsKey extends Error {}

export function createProviderConfigStore(db: Db, cipher: CredentialCipher | null): ProviderConfigStore {
  const fromRow = (r: Record<string, unknown>): ProviderConfig => ({
    tenantId: r.tenant_id as string,
    channel: r.channel as Channel,
    name: r.name as string,
    kind: r.kind as ProviderKind,
    position: r.position as number,
    weight: r.weight as number,
    mode: r.mode as RouteMode,
    settings: r.settings as Record<string, unknown>,
    credentialsSealed: (r.credentials_sealed as string | null) ?? null,
    updatedAt: r.updated_at as Date,
  });
  return {
    async route(tenantId, channel) {
      const rows = await db('provider_configs').where({ tenant_id: tenantId, channel }).orderBy('position');
      return rows.map(fromRow);
    },
    async routes(tenantId) {
      const rows = await db('provider_configs').where({ tenant_id: tenantId }).orderBy(['channel', 'position']);
      return rows.map(fromRow);
    },
    async putRoute(tenantId, channel, input, now) {
      return db.transaction(async (trx) => {
        const existing = new Map<string, string | null>(
          (await trx('provider_configs').where({ tenant_id: tenantId, channel }).forUpdate().select('name', 'credentials_sealed')).map((r: { name: string; credentials_sealed: string | null }) => [r.name, r.credentials_sealed]),
        );
        const rows = input.providers.map((p, position) => {
          let sealed = existing.get(p.name) ?? null;
          if (p.credentials && Object.keys(p.credentials).length > 0) {
            if (!cipher) throw new MissingCredentialsKey('PROVIDER_CREDENTIALS_KEY is not configured: credentials cannot be stored');
            sealed = cipher.seal(p.credentials, credentialsAad(tenantId, channel, p.name));
          }
          return { tenant_id: tenantId, channel, name: p.name, kind: p.kind, position, weight: p.weight ?? 1, mode: input.mode, settings: JSON.stringify(p.settings), credentials_sealed: sealed, updated_at: now };
        });
        await trx('provider_configs').where({ tenant_id: tenantId, channel }).delete();
        const inserted = await trx('provider_configs').insert(rows).returning('*');
        return (inserted as Array<Record<string, unknown>>).map(fromRow).sort((a, b) => a.position - b.position);
      });
    },
    async deleteRoute(tenantId, channel) {
      return (await db('provider_configs').where({ tenant_id: tenantId, channel }).delete()) > 0;
    },
  };
}
