import express, { Router } from 'express';
import { context, SpanKind, trace, type Link } from '@opentelemetry/api';
import { ATTR, HEADERS, RECEIPT_STATUSES, SPAN, type ReceiptStatus } from '@ca/contracts';
import { contextFromHeaders, currentTraceHeaders, syntheticTraceparent, tracer, type Logger } from '@ca/telemetry';
import type { Db } from '@ca/postgres';
import { invalidReceipt, receiptSignatureInvalid, receiptsNotConfigured } from '../errors';
import type { CredentialCipher } from '../routing/credential-cipher';
import { credentialsAad } from '../routing/provider-configs';
import { createBatcher } from '../store/batcher';
import type { ReceiptInput, ReceiptOutcome, ReceiptStore, ReceiptTarget } from './receipt-store';
import { verifyTwilioSignature } from './twilio-signature';
import { checkSimSignature, SIM_SIGNATURE_HEADER } from './sim-signature';

export interface ReceiptRoutesDeps {
  db: Db;
  receipts: ReceiptStore;
  cipher: CredentialCipher | null;
  /** PUBLIC_URL: the base the providers were told to call back (Twilio signs the URL it called). */
  publicUrl: string | null;
  /** SIM_RECEIPT_SECRET: the simulated providers sign with it; null: /v1/receipts/sim answers 404. */
  simSecret: string | null;
  clock: { now(): Date };
  logger: Logger;
}

/** Twilio MessageStatus → ours (twilio.com/docs/messaging/guides/track-outbound-message-status). */
const TWILIO_FINAL: Readonly<Record<string, ReceiptStatus>> = { delivered: 'delivered', read: 'delivered', undelivered: 'undelivered', failed: 'undelivered' };
/** `failed` with these error codes means the address itself is unusable (unknown handset, landline, not a WhatsApp user): a bounce. */
const TWILIO_BOUNCE_CODES = new Set(['30005', '30006', '21211', '21614', '63024']);

export function mapTwilioStatus(messageStatus: string, errorCode: string | null): ReceiptStatus | null {
  const mapped = TWILIO_FINAL[messageStatus] ?? null;
  if (messageStatus === 'failed' && errorCode && TWILIO_BOUNCE_CODES.has(errorCode)) return 'bounced';
  return mapped;
}

/**
 * Public receipt callbacks (no service token: the providers call them; a signature proves who).
 *   POST /v1/receipts/twilio  form-encoded Twilio status callback, X-Twilio-Signature checked with the
 *                             Auth Token of the tenant provider config whose accountSid sent it
 *   POST /v1/receipts/sim     JSON from provider-sim, X-Sim-Signature (HMAC-SHA256, SIM_RECEIPT_SECRET)
 * Both answer 200 { outcome } for any well-signed receipt (a provider must not retry a duplicate),
 * 403 problem+json for a bad signature. Each receipt is handled in a `message.receipt` span that is
 * a child of the message's attempt span and links to it.
 */
export function receiptRoutes(deps: ReceiptRoutesDeps): Router {
  const router = Router();
  // Group commit, as the attempts' writes: receipts that arrive together are looked up in one
  // query and applied in one transaction (a provider calls back for every message it was sent).
  const finds = createBatcher<string, ReceiptTarget | null>(async (pmids) => {
    const found = await deps.receipts.findMany(pmids);
    return pmids.map((pmid) => found.get(pmid) ?? null);
  }, 200);
  const applies = createBatcher((items: Array<{ input: ReceiptInput; traceHeaders: Record<string, string> }>) => deps.receipts.applyMany(items, deps.clock.now()), 200);
  const form = express.text({ type: 'application/x-www-form-urlencoded', limit: '64kb' });
  const raw = express.text({ type: 'application/json', limit: '64kb' });

  router.post('/v1/receipts/twilio', form, async (req, res) => {
    if (!deps.publicUrl) throw receiptsNotConfigured('PUBLIC_URL is not set, so no callback URL can be verified');
    const params = new URLSearchParams(typeof req.body === 'string' ? req.body : '');
    const accountSid = params.get('AccountSid') ?? '';
    // The URL Twilio requested: the configured public base plus the path and query as received.
    const url = deps.publicUrl + req.originalUrl;
    const candidates = await twilioTokens(accountSid);
    const signer = verifyTwilioSignature(candidates, req.get('x-twilio-signature'), url, params);
    if (!signer) throw receiptSignatureInvalid('X-Twilio-Signature does not match this URL and these parameters for any Twilio account configured here');
    const sid = params.get('MessageSid') ?? params.get('SmsSid') ?? '';
    const providerStatus = params.get('MessageStatus') ?? params.get('SmsStatus') ?? '';
    if (!sid || !providerStatus) throw invalidReceipt('MessageSid and MessageStatus are required');
    const errorCode = params.get('ErrorCode') || null;
    const outcome = await handle({ source: 'twilio', providerMessageId: sid, providerStatus, status: mapTwilioStatus(providerStatus, errorCode), errorCode, tenantId: signer.tenantId });
    res.json({ outcome });
  });

  router.post('/v1/receipts/sim', raw, async (req, res) => {
    if (!deps.simSecret) throw receiptsNotConfigured('SIM_RECEIPT_SECRET is not set');
    const body = typeof req.body === 'string' ? req.body : '';
    const refused = checkSimSignature(deps.simSecret, req.get(SIM_SIGNATURE_HEADER), body, deps.clock.now());
    if (refused) throw receiptSignatureInvalid(refused);
    let r: { providerMessageId?: unknown; status?: unknown; errorCode?: unknown };
    try {
      r = JSON.parse(body) as typeof r;
    } catch {
      throw invalidReceipt('the body is not JSON');
    }
    if (typeof r.providerMessageId !== 'string' || !(RECEIPT_STATUSES as readonly unknown[]).includes(r.status)) {
      throw invalidReceipt(`providerMessageId (string) and status (${RECEIPT_STATUSES.join(', ')}) are required`);
    }
    const status = r.status as ReceiptStatus;
    const outcome = await handle({ source: 'sim', providerMessageId: r.providerMessageId, providerStatus: status, status, errorCode: typeof r.errorCode === 'string' ? r.errorCode : null, tenantId: null });
    res.json({ outcome });
  });

  /** Every Twilio config (any tenant, sms or whatsapp) of this account, with its Auth Token opened. */
  async function twilioTokens(accountSid: string): Promise<Array<{ tenantId: string; authToken: string }>> {
    if (!accountSid || !deps.cipher) return [];
    const rows: Array<{ tenant_id: string; channel: string; name: string; credentials_sealed: string | null }> = await deps.db('provider_configs')
      .where({ kind: 'twilio' }).andWhereRaw(`settings->>'accountSid' = ?`, [accountSid]).select('tenant_id', 'channel', 'name', 'credentials_sealed');
    const out: Array<{ tenantId: string; authToken: string }> = [];
    for (const r of rows) {
      if (!r.credentials_sealed) continue;
      try {
        const token = deps.cipher.open(r.credentials_sealed, credentialsAad(r.tenant_id, r.channel, r.name)).authToken;
        if (token) out.push({ tenantId: r.tenant_id, authToken: token });
      } catch {
        deps.logger.warn('twilio credentials could not be opened for a receipt', { tenantId: r.tenant_id, provider: r.name });
      }
    }
    return out;
  }

  /** Applies one receipt in a `message.receipt` span: child of the attempt span (the message's trace), linked to it. */
  async function handle(input: ReceiptInput): Promise<ReceiptOutcome> {
    const target = await finds.add(input.providerMessageId);
    const traceparent = target?.attemptTraceparent ?? (target ? syntheticTraceparent(target.traceId) : null);
    const parent = traceparent ? contextFromHeaders({ [HEADERS.traceparent]: traceparent }) : context.active();
    const attempt = target?.attemptTraceparent ? trace.getSpanContext(parent) : undefined;
    const links: Link[] = attempt ? [{ context: attempt, attributes: { 'ca.link.kind': 'delivery.attempt' } }] : [];
    return tracer.startActiveSpan(SPAN.receipt, {
      kind: SpanKind.SERVER,
      links,
      attributes: {
        [ATTR.provider]: input.source, [ATTR.providerMessageId]: input.providerMessageId, [ATTR.receiptProviderStatus]: input.providerStatus,
        ...(target ? { [ATTR.messageId]: target.id } : {}),
        ...(input.errorCode ? { [ATTR.providerErrorCode]: input.errorCode } : {}),
      },
    }, parent, async (span) => {
      try {
        // The status event carries this span's context: the receipt's place in the message's trace.
        const outcome = await applies.add({ input, traceHeaders: currentTraceHeaders() });
        span.setAttribute(ATTR.receiptOutcome, outcome);
        deps.logger.info('delivery receipt', { messageId: target?.id, provider: input.source, providerStatus: input.providerStatus, outcome });
        return outcome;
      } finally {
        span.end();
      }
    });
  }

  return router;
}
