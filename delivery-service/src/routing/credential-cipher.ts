import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Provider credentials at rest: AES-256-GCM with a key from configuration
 * (PROVIDER_CREDENTIALS_KEY, 32 bytes base64). Stored as `v1.<iv>.<tag>.<ciphertext>` (base64url),
 * the tenant id and provider name bound as additional data so a row copied to another tenant or
 * provider does not decrypt.
 */
export interface CredentialCipher {
  seal(plain: Record<string, string>, aad: string): string;
  open(sealed: string, aad: string): Record<string, string>;
}

export function createCredentialCipher(keyBase64: string): CredentialCipher {
  const key = Buffer.from(keyBase64, 'base64');
  if (key.length !== 32) throw new Error('PROVIDER_CREDENTIALS_KEY must be 32 bytes, base64-encoded');
  return {
    seal(plain, aad) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(aad));
      const body = Buffer.concat([cipher.update(JSON.stringify(plain), 'utf8'), cipher.final()]);
      return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
    },
    open(sealed, aad) {
      const [v, iv, tag, body] = sealed.split('.');
      if (v !== 'v1' || !iv || !tag || body === undefined) throw new Error('unreadable credentials');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      return JSON.parse(plain) as Record<string, string>;
    },
  };
}
