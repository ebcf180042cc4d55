import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { freePort } from '@ca/testing';
import { createSmtpProvider } from '../../src/providers/smtp-provider';

interface Received { from: string; to: string[]; raw: string; user?: string }

/** A real SMTP server on port 0 that records what it received and refuses `bounce@…` at RCPT with 550. */
async function startSmtp(opts: { user?: string; password?: string } = {}) {
  const received: Received[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authOptional: !opts.user,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === opts.user && auth.password === opts.password) cb(null, { user: auth.username });
      else cb(new Error('Invalid username or password'));
    },
    onRcptTo(address, _session, cb) {
      if (address.address.startsWith('bounce@')) {
        const err = new Error('5.1.1 Mailbox unavailable') as Error & { responseCode: number };
        err.responseCode = 550;
        cb(err);
        return;
      }
      cb();
    },
    onData(stream, session, cb) {
      let raw = '';
      stream.on('data', (c: Buffer) => { raw += c.toString(); });
      stream.on('end', () => {
        received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw, user: session.user as string | undefined });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const req = (to: string) => ({ idempotencyKey: randomUUID(), channel: 'email' as const, to, subject: 'Your order', body: `Hello ${randomUUID()}` });

test('SMTP: the message reaches the relay with From, To, Subject, body and a Message-ID made from the message id', async (t) => {
  const smtp = await startSmtp({ user: 'relay-user', password: 'relay-secret' });
  t.after(() => smtp.close());
  const p = createSmtpProvider('smtp-main', { host: '127.0.0.1', port: smtp.port, secure: false, requireTls: false, user: 'relay-user', password: 'relay-secret', from: 'Acme <no-reply@acme.example>' });
  const r = req('ada@example.com');
  const result = await p.send(r, AbortSignal.timeout(5000));
  assert.ok(result.ok);
  assert.equal(result.providerMessageId, `<${r.idempotencyKey}@acme.example>`);
  assert.equal(smtp.received.length, 1);
  const got = smtp.received[0]!;
  assert.equal(got.from, 'no-reply@acme.example');
  assert.deepEqual(got.to, ['ada@example.com']);
  assert.equal(got.user, 'relay-user');
  assert.match(got.raw, /^Subject: Your order$/m);
  assert.match(got.raw, new RegExp(`^Message-ID: <${r.idempotencyKey}@acme.example>$`, 'mi'));
  assert.ok(got.raw.includes(r.body));
});

test('SMTP: 550 at RCPT is a permanent hard bounce; wrong credentials and a refused connection are not accepted', async (t) => {
  const smtp = await startSmtp({ user: 'relay-user', password: 'relay-secret' });
  t.after(() => smtp.close());
  const p = createSmtpProvider('smtp-main', { host: '127.0.0.1', port: smtp.port, secure: false, requireTls: false, user: 'relay-user', password: 'relay-secret', from: 'no-reply@acme.example' });
  const bounced = await p.send(req('bounce@example.com'), AbortSignal.timeout(5000));
  assert.ok(!bounced.ok);
  assert.deepEqual({ retryable: bounced.retryable, badRecipient: bounced.badRecipient, notAccepted: bounced.notAccepted, code: bounced.code }, { retryable: false, badRecipient: true, notAccepted: true, code: '550' });

  const wrong = createSmtpProvider('smtp-wrong', { host: '127.0.0.1', port: smtp.port, secure: false, requireTls: false, user: 'relay-user', password: 'nope', from: 'no-reply@acme.example' });
  const denied = await wrong.send(req('ada@example.com'), AbortSignal.timeout(5000));
  assert.ok(!denied.ok && denied.notAccepted, JSON.stringify(denied));

  const closed = createSmtpProvider('smtp-closed', { host: '127.0.0.1', port: await freePort(), secure: false, requireTls: false, from: 'no-reply@acme.example' });
  const refused = await closed.send(req('ada@example.com'), AbortSignal.timeout(5000));
  assert.ok(!refused.ok && refused.retryable && refused.notAccepted, JSON.stringify(refused));
  assert.equal(smtp.received.length, 0);
});
