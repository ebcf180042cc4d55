/**
 * A local Twilio Messages API implementing the documented request, response and error shapes:
 *   https://www.twilio.com/docs/messaging/api/message-resource  (create: POST
 *     /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded To/From/Body, HTTP basic auth
 *     AccountSid:AuthToken, 201 with the Message resource {sid: SM…, status: "queued", to, from, …};
 *     fetch: GET /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json)
 *   https://www.twilio.com/docs/usage/twilios-response  (error body {code, message, more_info, status})
 *   https://www.twilio.com/docs/api/errors/21211  (400, invalid 'To' phone number)
 *   https://www.twilio.com/docs/api/errors/20429  (429 Too Many Requests: "never processed and is
 *     always safe to retry"; we send Retry-After)
 *   https://www.twilio.com/docs/api/errors/20003  (401, authentication failed)
 *   https://www.twilio.com/docs/messaging/guides/track-outbound-message-status  (StatusCallback: a
 *     form-encoded POST of MessageSid, MessageStatus, AccountSid, From, To, ApiVersion, SmsSid,
 *     SmsStatus and, on failure, ErrorCode, to the URL given at create)
 *   https://www.twilio.com/docs/usage/security#validating-requests  (X-Twilio-Signature: base64
 *     HMAC-SHA1 keyed with the Auth Token over the full URL + each POST parameter, sorted by name, name+value)
 * Scripted behaviour per recipient: `+15005550001` → 21211, `+15005550429` → 429 (first `rateLimitTimes`
 * calls), anything else is accepted and recorded.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, randomBytes } from 'node:crypto';

export const TWILIO_INVALID_TO = '+15005550001';
export const TWILIO_RATE_LIMITED_TO = '+15005550429';

export interface TwilioFake {
  url: string;
  accountSid: string;
  authToken: string;
  /** Every accepted message, as Twilio would store it. */
  messages: Array<{ sid: string; to: string; from: string; body: string; status: string; statusCallback: string | null }>;
  /** Every request seen, accepted or not. */
  requests: Array<{ method: string; path: string; authorized: boolean }>;
  rateLimitTimes: number;
  /**
   * When set, the fake posts this status callback for a new message before it answers the create
   * request (a provider that calls back faster than the sender commits), and records what the
   * receipt endpoint answered.
   */
  callbackBeforeReply: string | null;
  earlyCallbacks: Array<{ sid: string; status: number; outcome: unknown }>;
  /** Posts the status callback of message `sid` as Twilio does (signed with `authToken` unless another is given). */
  callback(sid: string, messageStatus: string, opts?: { errorCode?: string; signWith?: string }): Promise<{ status: number; contentType: string; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

const readBody = (req: IncomingMessage) => new Promise<string>((resolve) => {
  let s = '';
  req.on('data', (c: Buffer) => { s += c.toString(); });
  req.on('end', () => resolve(s));
});

export async function startTwilioFake(): Promise<TwilioFake> {
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const authToken = randomBytes(16).toString('hex');
  let limited = 0;
  const fake: Omit<TwilioFake, 'url' | 'close' | 'callback'> = { accountSid, authToken, messages: [], requests: [], rateLimitTimes: 1, callbackBeforeReply: null, earlyCallbacks: [] };
  const error = (res: import('node:http').ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }));
  };
  const server: Server = createServer(async (req, res) => {
    const path = req.url ?? '';
    const authorized = req.headers.authorization === `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
    fake.requests.push({ method: req.method ?? '', path, authorized });
    const body = await readBody(req);
    if (!authorized) return error(res, 401, 20003, 'Authenticate');
    const base = `/2010-04-01/Accounts/${accountSid}/Messages`;
    if (req.method === 'POST' && path === `${base}.json`) {
      if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) return error(res, 400, 21601, 'Invalid content type');
      const form = new URLSearchParams(body);
      const to = form.get('To') ?? '';
      const from = form.get('From') ?? '';
      const text = form.get('Body') ?? '';
      if (!to) return error(res, 400, 21604, "A 'To' phone number is required.");
      const bare = to.replace(/^whatsapp:/, '');
      if (bare === TWILIO_INVALID_TO || !/^\+[1-9]\d{6,14}$/.test(bare)) return error(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
      if (bare === TWILIO_RATE_LIMITED_TO && limited < fake.rateLimitTimes) {
        limited += 1;
        return error(res, 429, 20429, 'Too Many Requests', { 'retry-after': '2' });
      }
      const sid = `SM${randomBytes(16).toString('hex')}`;
      const message = { sid, to, from, body: text, status: 'queued', statusCallback: form.get('StatusCallback') };
      fake.messages.push(message);
      if (fake.callbackBeforeReply && message.statusCallback) {
        const early = await callback(sid, fake.callbackBeforeReply);
        fake.earlyCallbacks.push({ sid, status: early.status, outcome: early.body.outcome });
      }
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...message, account_sid: accountSid, direction: 'outbound-api', api_version: '2010-04-01', error_code: null, error_message: null, uri: `${base}/${sid}.json` }));
      return;
    }
    const fetchMatch = new RegExp(`^${base}/(SM[0-9a-f]{32})\\.json$`).exec(path);
    if (req.method === 'GET' && fetchMatch) {
      const m = fake.messages.find((x) => x.sid === fetchMatch[1]);
      if (!m) return error(res, 404, 20404, 'The requested resource was not found');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...m, account_sid: accountSid }));
      return;
    }
    error(res, 404, 20404, 'The requested resource was not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  async function callback(sid: string, messageStatus: string, opts: { errorCode?: string; signWith?: string } = {}) {
    const m = fake.messages.find((x) => x.sid === sid);
    if (!m?.statusCallback) throw new Error(`message ${sid} has no StatusCallback`);
    const params: Record<string, string> = {
      AccountSid: accountSid, ApiVersion: '2010-04-01', From: m.from, To: m.to, MessageSid: sid, SmsSid: sid, MessageStatus: messageStatus, SmsStatus: messageStatus,
      ...(opts.errorCode ? { ErrorCode: opts.errorCode } : {}),
    };
    const signed = m.statusCallback + Object.keys(params).sort().map((k) => k + params[k]).join('');
    const signature = createHmac('sha1', opts.signWith ?? authToken).update(signed).digest('base64');
    const res = await fetch(m.statusCallback, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature, 'user-agent': 'TwilioProxy/1.1' },
      body: new URLSearchParams(params).toString(),
    });
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: (await res.json()) as Record<string, unknown> };
  }
  return Object.assign(fake, {
    callback,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  });
}
