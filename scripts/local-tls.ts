/**
 * The self-signed certificate `npm start` serves HTTPS with: made on first run (the `selfsigned`
 * package, so no openssl is needed), kept outside the repository under the user's cache directory
 * (or the OS temp directory), and remade when it is about to expire. Local use only: clients must
 * trust it explicitly (curl --cacert, or -k).
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

const DAY_MS = 86_400_000;

function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || (homedir() ? join(homedir(), '.cache') : tmpdir());
  return join(base, 'communication-aggregator', 'tls');
}

export async function ensureLocalCertificate(dir = cacheDir()): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(dir, 'localhost.crt');
  const keyFile = join(dir, 'localhost.key');
  if (existsSync(certFile) && existsSync(keyFile)) {
    const validTo = Date.parse(new X509Certificate(readFileSync(certFile)).validTo);
    if (validTo - Date.now() > 7 * DAY_MS) return { certFile, keyFile };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 365 * DAY_MS),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] }],
  });
  writeFileSync(keyFile, pems.private, { mode: 0o600 });
  writeFileSync(certFile, pems.cert, { mode: 0o644 });
  return { certFile, keyFile };
}
