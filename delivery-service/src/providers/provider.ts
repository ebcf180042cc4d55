import type { Channel } from '@ca/contracts';

export interface ProviderRequest {
  /** The message id: providers must not repeat the effect for a key they have already delivered. */
  idempotencyKey: string;
  channel: Channel;
  to: string;
  subject?: string;
  body: string;
  /** The merchant the message belongs to (absent on records from before tenants). */
  tenantId?: string;
  /**
   * Where the provider should report delivery receipts for this message, when the deployment
   * receives them (issue 11 item 5). Adapters that support a per-request callback pass it on.
   */
  statusCallbackUrl?: string;
}

/**
 * Expected outcomes are values; the worker turns them into errors/status in one place.
 *
 * `notAccepted: true` says the provider certainly did not take the message (a documented
 * "not accepted" answer, a refused connection): failing over to another provider cannot send it
 * twice. Without it a failure is ambiguous — the provider may have accepted — and the dispatcher
 * never tries a second provider for the message (docs/providers.md).
 */
export type ProviderResult =
  | { ok: true; providerMessageId: string }
  | {
    ok: false;
    reason: string;
    retryable: boolean;
    retryAfterMs?: number;
    notAccepted?: boolean;
    /** The address itself is unusable (invalid number, unregistered token, hard bounce): suppress it. */
    badRecipient?: boolean;
    /** The provider's own error code (Twilio 21211, FCM UNREGISTERED, SMTP 550), for spans and logs. */
    code?: string;
  };

/** What a provider knows about a message it may have accepted, looked up by our idempotency key. */
export type ProviderLookup = { found: true; providerMessageId: string } | { found: false };

export interface Provider {
  readonly name: string;
  /**
   * Which receipt endpoint this provider calls back (`/v1/receipts/<receipts>`), when it sends
   * delivery receipts; the dispatcher then sets `statusCallbackUrl` from PUBLIC_URL.
   */
  readonly receipts?: 'twilio' | 'sim';
  send(req: ProviderRequest, signal: AbortSignal): Promise<ProviderResult>;
  /**
   * Optional: asks the provider whether it accepted the message with this idempotency key. Offered
   * only where the provider can answer it (the simulated provider); used after an ambiguous failure.
   */
  lookup?(req: ProviderRequest, signal: AbortSignal): Promise<ProviderLookup>;
}

export type Providers = Readonly<Record<Channel, Provider>>;
