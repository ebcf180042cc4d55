import type { Channel } from '@ca/contracts';

export interface ProviderRequest {
  /** The message id: providers must not repeat the effect for a key they have already delivered. */
  idempotencyKey: string;
  channel: Channel;
  to: string;
  subject?: string;
  body: string;
}

/** Expected outcomes are values; the worker turns them into errors/status in one place. */
export type ProviderResult =
  | { ok: true; providerMessageId: string }
  | { ok: false; reason: string; retryable: boolean; retryAfterMs?: number };

export interface Provider {
  readonly name: string;
  send(req: ProviderRequest, signal: AbortSignal): Promise<ProviderResult>;
}

export type Providers = Readonly<Record<Channel, Provider>>;
