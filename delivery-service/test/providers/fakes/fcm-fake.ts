/**
 * A local FCM HTTP v1 API and Google OAuth token endpoint implementing the documented shapes:
 *   https://developers.google.com/identity/protocols/oauth2/service-account  (JWT {iss, scope, aud,
 *     iat, exp} signed RS256, POSTed form-encoded as grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer
 *     &assertion=…; answer {access_token, expires_in, token_type: "Bearer"})
 *   https://firebase.google.com/docs/cloud-messaging/send/v1-api  (POST /v1/projects/{project}/messages:send
 *     with Authorization: Bearer, body {message: {token, notification}}; answer {name: "projects/…/messages/…"})
 *   https://firebase.google.com/docs/cloud-messaging/error-codes  (error body {error: {code, message, status,
 *     details: [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode}]}}:
 *     UNREGISTERED 404, INVALID_ARGUMENT 400, QUOTA_EXCEEDED 429, UNAVAILABLE 503, INTERNAL 500)
 * The token endpoint verifies the assertion's signature with the service account's public key.
 * Scripted per device token: `unregistered-*` → UNREGISTERED, `quota-*` → QUOTA_EXCEEDED (Retry-After 3),
 * `unavailable-*` → UNAVAILABLE, anything else is accepted and recorded.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createVerify, generateKeyPairSync, randomBytes } from 'node:crypto';

export interface FcmFake {
  url: string;
  tokenUri: string;
  projectId: string;
  clientEmail: string;
  privateKey: string;
  delivered: Array<{ name: string; token: string; title?: string; body: string }>;
  tokenRequests: number;
  close(): Promise<void>;
}

const readBody = (req: IncomingMessage) => new Promise<string>((resolve) => {
  let s = '';
  req.on('data', (c: Buffer) => { s += c.toString(); });
  req.on('end', () => resolve(s));
});

export async function startFcmFake(): Promise<FcmFake> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const projectId = 'demo-project';
  const clientEmail = 'sender@demo-project.iam.gserviceaccount.com';
  const issued = new Set<string>();
  const fake = { projectId, clientEmail, privateKey, delivered: [] as FcmFake['delivered'], tokenRequests: 0 };
  let base = '';
  const fcmError = (res: ServerResponse, code: number, status: string, errorCode: string, message: string, headers: Record<string, string> = {}) => {
    res.writeHead(code, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ error: { code, message, status, details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] } }));
  };
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    if (req.method === 'POST' && req.url === '/token') {
      fake.tokenRequests += 1;
      const form = new URLSearchParams(body);
      const [h, p, sig] = (form.get('assertion') ?? '').split('.');
      const claims = p ? JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown> : {};
      const valid = form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer' && h && p && sig
        && createVerify('RSA-SHA256').update(`${h}.${p}`).verify(publicKey, Buffer.from(sig, 'base64url'))
        && claims.iss === clientEmail && claims.aud === `${base}/token` && claims.scope === 'https://www.googleapis.com/auth/firebase.messaging'
        && Number(claims.exp) - Number(claims.iat) <= 3600;
      if (!valid) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid_grant', error_description: 'Invalid JWT Signature.' }));
        return;
      }
      const token = `ya29.${randomBytes(24).toString('base64url')}`;
      issued.add(token);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: token, expires_in: 3599, token_type: 'Bearer' }));
      return;
    }
    if (req.method === 'POST' && req.url === `/v1/projects/${projectId}/messages:send`) {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!bearer || !issued.has(bearer)) return fcmError(res, 401, 'UNAUTHENTICATED', 'THIRD_PARTY_AUTH_ERROR', 'Request had invalid authentication credentials.');
      const { message } = JSON.parse(body) as { message: { token: string; notification?: { title?: string; body: string } } };
      const token = message.token;
      if (token.startsWith('unregistered-')) return fcmError(res, 404, 'NOT_FOUND', 'UNREGISTERED', 'Requested entity was not found.');
      if (!token || token.startsWith('invalid-')) return fcmError(res, 400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'The registration token is not a valid FCM registration token');
      if (token.startsWith('quota-')) return fcmError(res, 429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED', 'Quota exceeded.', { 'retry-after': '3' });
      if (token.startsWith('unavailable-')) return fcmError(res, 503, 'UNAVAILABLE', 'UNAVAILABLE', 'The service is currently unavailable.');
      const name = `projects/${projectId}/messages/${randomBytes(8).toString('hex')}`;
      fake.delivered.push({ name, token, title: message.notification?.title, body: message.notification?.body ?? '' });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(fake, {
    url: base,
    tokenUri: `${base}/token`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  });
}
