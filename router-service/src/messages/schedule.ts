import { SendAtOutOfRange } from '../errors';

/**
 * The instant a message may be sent: null for "now" (no sendAt), else sendAt, which must lie in the
 * future and at most `horizonSeconds` ahead of `now` (the injected clock). The syntax (RFC 3339 with
 * an offset) was checked by the schema, and that the date exists (no Feb 30) by validateMessage.
 */
export function resolveSendAt(sendAt: string | undefined, now: Date, horizonSeconds: number): Date | null {
  if (sendAt === undefined) return null;
  const at = new Date(sendAt);
  if (at.getTime() <= now.getTime()) throw new SendAtOutOfRange('past', horizonSeconds);
  if (at.getTime() - now.getTime() > horizonSeconds * 1000) throw new SendAtOutOfRange('beyond_horizon', horizonSeconds);
  return at;
}

/** True when an RFC 3339 string names a real instant (Date rolls Feb 30 over; compare the date part back). */
export function isRealDate(value: string): boolean {
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) return false;
  const [, y, m, d] = /^(\d{4})-(\d{2})-(\d{2})/.exec(value) ?? [];
  // Compare in the string's own offset: shift by it, then read the UTC calendar date.
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(value);
  const shiftMs = offset ? (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) * 60_000 : 0;
  const local = new Date(at.getTime() + shiftMs);
  return local.getUTCFullYear() === Number(y) && local.getUTCMonth() + 1 === Number(m) && local.getUTCDate() === Number(d);
}
