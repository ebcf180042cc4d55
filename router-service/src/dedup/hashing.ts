import { createHash } from 'node:crypto';
import type { SendMessageRequest } from '@ca/contracts';

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted at every level, so the same body always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Identity of an Idempotency-Key request: the whole validated body (defaults applied). */
export function requestHash(message: SendMessageRequest): string {
  return sha256(canonicalJson(message));
}

/**
 * Identity for content dedup: what the recipient would see (channel, recipient, subject, body).
 * A JSON array keeps the parts unambiguous ("a|b"+"c" never collides with "a"+"b|c").
 * Priority, correlationId and metadata are deliberately left out: resending the same text with
 * another priority is still the same message to the person receiving it.
 */
export function contentHash(message: Pick<SendMessageRequest, 'channel' | 'to' | 'subject' | 'body'>): string {
  return sha256(JSON.stringify([message.channel, message.to, message.subject ?? null, message.body]));
}
