import nodemailer from 'nodemailer';
import type { Provider, ProviderRequest, ProviderResult } from './provider';
import { neverConnected } from './network-errors';

export interface SmtpSettings {
  host: string;
  port: number;
  /** true: implicit TLS (port 465); false: plain, upgraded with STARTTLS when the relay offers it. */
  secure: boolean;
  /** Refuse to send without STARTTLS (set for any relay outside loopback). */
  requireTls: boolean;
  user?: string;
  password?: string;
  /** The From address, e.g. `Acme <no-reply@acme.example>`. */
  from: string;
  /** Domain of the Message-ID we set from the message id (defaults to the From domain). */
  messageIdDomain?: string;
  connectionTimeoutMs?: number;
}

/**
 * Email over SMTP with nodemailer: works with any relay (SES, Postmark, SendGrid, Mailgun, Mailpit).
 * The Message-ID is derived from our message id, so a retry of the same message carries the same
 * Message-ID and receiving systems can drop the repeat. Answers:
 *   connection refused / greeting never came → transient, not accepted (failover is safe);
 *   5xx at RCPT (550, 551, 553: mailbox unavailable / unknown) → permanent, hard bounce, suppress;
 *   other 5xx → permanent, not accepted; 4xx → transient, not accepted (the relay said "later");
 *   a failure after DATA was sent (timeout, reset) → ambiguous: the relay may have queued it.
 */
export function createSmtpProvider(name: string, s: SmtpSettings): Provider {
  const transport = nodemailer.createTransport({
    host: s.host,
    port: s.port,
    secure: s.secure,
    requireTLS: s.requireTls,
    ignoreTLS: !s.secure && !s.requireTls && (s.host === '127.0.0.1' || s.host === 'localhost'),
    ...(s.user ? { auth: { user: s.user, pass: s.password ?? '' } } : {}),
    connectionTimeout: s.connectionTimeoutMs ?? 10_000,
    greetingTimeout: s.connectionTimeoutMs ?? 10_000,
    socketTimeout: 30_000,
    logger: false,
    debug: false,
  });
  const domain = s.messageIdDomain ?? /@([^>\s]+)/.exec(s.from)?.[1] ?? 'localhost';
  return {
    name,
    async send(req: ProviderRequest, signal: AbortSignal): Promise<ProviderResult> {
      if (signal.aborted) throw signal.reason;
      const sending = transport.sendMail({
        from: s.from,
        to: req.to,
        subject: req.subject ?? '',
        text: req.body,
        messageId: `<${req.idempotencyKey}@${domain}>`,
        headers: { 'X-Message-Id': req.idempotencyKey },
      });
      // nodemailer has no AbortSignal: the caller's deadline turns into an ambiguous timeout.
      const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
      try {
        const info = await Promise.race([sending, aborted]);
        if (info.rejected.length > 0) return { ok: false, retryable: false, notAccepted: true, badRecipient: true, reason: `smtp relay rejected the recipient: ${String(info.response)}` };
        return { ok: true, providerMessageId: info.messageId };
      } catch (err) {
        if (signal.aborted) throw err;
        return classifySmtpError(err);
      } finally {
        sending.catch(() => undefined);
      }
    },
  };
}

function classifySmtpError(err: unknown): ProviderResult {
  const e = err as { code?: string; command?: string; responseCode?: number; response?: string; message?: string };
  const code = e.responseCode ? String(e.responseCode) : e.code;
  const reason = `smtp ${code ?? 'error'}: ${e.response ?? e.message ?? String(err)}`;
  if (e.responseCode && e.responseCode >= 500) {
    const atRecipient = e.command === 'RCPT TO' || e.code === 'EENVELOPE';
    return { ok: false, retryable: false, notAccepted: true, ...(atRecipient && [550, 551, 553].includes(e.responseCode) ? { badRecipient: true } : {}), code, reason };
  }
  if (e.responseCode && e.responseCode >= 400) return { ok: false, retryable: true, notAccepted: true, code, reason };
  if (neverConnected(err) || e.command === 'CONN' || e.code === 'EAUTH' || e.code === 'ETLS') return { ok: false, retryable: true, notAccepted: true, code, reason };
  // Connection lost or timed out mid-conversation: after DATA the relay may have the message.
  const beforeData = e.command !== undefined && e.command !== 'DATA' && e.command !== 'DATA END';
  return { ok: false, retryable: true, ...(beforeData ? { notAccepted: true } : {}), code, reason };
}
