import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The simulated providers' receipt signature (docs/webhooks.md "Receipts"): header
 * `X-Sim-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with SIM_RECEIPT_SECRET>`.
 * The timestamp is signed too, so a captured receipt cannot be replayed after the tolerance.
 */
export const SIM_SIGNATURE_HEADER = 'x-sim-signature';
export const SIM_SIGNATURE_TOLERANCE_SECONDS = 300;

export function signSimReceipt(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex')}`;
}

/** Why a signature is refused, or null when it is good and fresh. */
export function checkSimSignature(secret: string, header: string | undefined, body: string, now: Date): string | null {
  if (!header) return 'missing X-Sim-Signature';
  const parts = new Map(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isSafeInteger(t) || !/^[0-9a-f]{64}$/.test(v1)) return 'malformed X-Sim-Signature';
  if (Math.abs(now.getTime() / 1000 - t) > SIM_SIGNATURE_TOLERANCE_SECONDS) return 'X-Sim-Signature timestamp outside the tolerance';
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex'));
  return timingSafeEqual(expected, Buffer.from(v1)) ? null : 'X-Sim-Signature does not match';
}
