import { createHmac, randomBytes, randomUUID } from 'node:crypto';

/**
 * Standard Webhooks signing (standardwebhooks.com, spec "Signature scheme"): the secret is
 * `whsec_` + base64 of 24..64 random bytes; the signed content is `${webhook-id}.${webhook-timestamp}.${body}`
 * (timestamp in integer seconds), HMAC-SHA256 keyed with the base64-decoded secret, sent as
 * `webhook-signature: v1,<base64>`. Done with node:crypto (the spec is these few lines; the
 * official `standardwebhooks` package verifies them in our tests, docs/decisions.md).
 */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** A webhook-id: stable across the retries of one event. */
export function newWebhookId(): string {
  return `msg_${randomUUID().replace(/-/g, '')}`;
}

export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`, 'utf8').digest('base64')}`;
}

/** The three headers of one POST. */
export function webhookHeaders(secret: string, id: string, at: Date, body: string): Record<string, string> {
  const ts = Math.floor(at.getTime() / 1000);
  return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(secret, id, ts, body) };
}
