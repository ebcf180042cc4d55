import type { ReceiptStatus } from '@ca/contracts';
import type { Logger } from '@ca/telemetry';
import { signSimReceipt, SIM_SIGNATURE_HEADER } from '../receipts/sim-signature';

export interface ReceiptSenderSettings {
  /** SIM_RECEIPT_SECRET: receipts are signed with it; null: the simulator sends none. */
  secret: string | null;
  /** How long after accepting a message its receipt is posted (ms). */
  delayMs: number;
  /** Shares (0..1) of receipts that say bounced / undelivered; the rest say delivered. */
  bounceRate: number;
  undeliveredRate: number;
}

export interface ReceiptSender {
  /** Schedules the receipt of an accepted message to `callbackUrl`. */
  schedule(callbackUrl: string, providerMessageId: string): void;
  /** Cancels receipts not yet sent (shutdown). */
  close(): void;
}

const TRIES = 3;

/**
 * provider-sim's delivery receipts: like a real provider it reports, a while after accepting a
 * message, whether it reached the recipient. Posted as JSON `{ providerMessageId, status, at }` with
 * `X-Sim-Signature` (sim-signature.ts). Kept in memory only: a receipt pending when the simulator
 * stops is not sent (a real provider's can be lost too; the message simply stays `sent`).
 */
export function createReceiptSender(s: ReceiptSenderSettings, deps: { random: () => number; clock: { now(): Date }; logger: Logger }): ReceiptSender {
  const timers = new Set<NodeJS.Timeout>();

  function draw(): ReceiptStatus {
    const r = deps.random();
    if (r < s.bounceRate) return 'bounced';
    if (r < s.bounceRate + s.undeliveredRate) return 'undelivered';
    return 'delivered';
  }

  async function post(url: string, body: string, tries: number): Promise<void> {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIM_SIGNATURE_HEADER]: signSimReceipt(s.secret!, body, deps.clock.now()) },
        body,
        signal: AbortSignal.timeout(5_000),
      });
      await res.arrayBuffer();
      if (res.status >= 500 && tries > 1) return later(url, body, tries - 1);
      if (!res.ok) deps.logger.warn('receipt refused', { status: res.status });
    } catch (err) {
      if (tries > 1) return later(url, body, tries - 1);
      deps.logger.warn('receipt could not be sent', { error: (err as Error).message });
    }
  }

  function later(url: string, body: string, tries: number): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      void post(url, body, tries);
    }, s.delayMs);
    timer.unref();
    timers.add(timer);
  }

  return {
    schedule(callbackUrl, providerMessageId) {
      if (!s.secret) return;
      const body = JSON.stringify({ providerMessageId, status: draw(), at: deps.clock.now().toISOString() });
      later(callbackUrl, body, TRIES);
    },
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
