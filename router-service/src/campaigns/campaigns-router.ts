import express, { Router, type Request, type Response } from 'express';
import Joi from 'joi';
import type { Knex } from 'knex';
import { CHANNELS, LIMITS, maskRecipient, type Channel } from '@ca/contracts';
import type { Logger } from '@ca/telemetry';
import { principalOf, requireScope } from '../auth/authenticate';
import type { Clock } from '../clock';
import { CampaignNotFound, CampaignStateConflict, UnsupportedMediaType, ValidationFailed } from '../errors';
import { traceLink } from '../messages/message-links';
import {
  MESSAGE_FILTERS, addRecipients, cancelCampaign, createCampaign, findCampaign, findUpload, listCampaignMessages,
  listCampaigns, recordUpload, startCampaign, type MessageFilter,
} from './campaign-store';
import { streamChanges } from '../transport/server-sent-events';
import { readRecipients } from './csv-recipients';

export interface CampaignsRouterDeps {
  db: Knex;
  clock: Clock;
  logger: Logger;
  settings: { traceViewUrl: string; kibanaUrl: string; eventsIntervalMs?: number };
  /** A campaign was started now: dispatch without waiting for the next poll. */
  onStarted: () => void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const JSON_TYPES = ['application/json', 'application/*+json'];
const CSV_TYPES = ['text/csv', 'application/csv', 'text/plain'];
const MAX_CSV_BYTES = 20 * 1024 * 1024;

const createSchema = Joi.object<{ name: string; channel: Channel; subject?: string; body: string }>({
  name: Joi.string().trim().min(1).max(200).required(),
  channel: Joi.string().valid(...CHANNELS).required(),
  subject: Joi.when('channel', { is: Joi.valid('email', 'push'), then: Joi.string().min(1).max(LIMITS.subject), otherwise: Joi.forbidden() }),
  body: Joi.string().min(1).max(LIMITS.body.email).required(),
}).unknown(false);

const startSchema = Joi.object<{ sendAt?: string }>({ sendAt: Joi.string().isoDate() }).unknown(false);

function validate<T>(schema: Joi.ObjectSchema<T>, body: unknown): T {
  const { value, error } = schema.validate(body ?? {}, { abortEarly: false });
  if (error) throw new ValidationFailed(error.details.map((d) => ({ field: d.path.join('.'), message: d.message, type: d.type })));
  return value;
}

function uuidParam(req: Request, name: string): string {
  const raw = String(req.params[name]);
  if (!UUID.test(raw)) throw new ValidationFailed([{ field: name, message: `"${name}" must be a valid UUID`, type: 'string.guid' }]);
  return raw.toLowerCase();
}

function csvField(value: string | number): string {
  const s = String(value);
  // A leading =+-@ would be a formula in a spreadsheet (CSV injection): quoted with a leading apostrophe.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) || safe !== s ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/**
 * /v1/campaigns: a message text (with {{placeholders}}) sent to the recipients of uploaded CSV
 * files. Create (draft) → upload recipients (validated per row, report per upload) → start now or
 * at a time → watch counts (SSE) → cancel. Every query is scoped to the caller's merchant.
 */
export function campaignsRouter(deps: CampaignsRouterDeps): Router {
  const router = Router();
  const json = express.json({ limit: '256kb', type: JSON_TYPES });
  const { db } = deps;
  const load = async (res: Response, id: string) => {
    const campaign = await findCampaign(db, principalOf(res).tenantId, id);
    if (!campaign) throw new CampaignNotFound(id);
    return campaign;
  };

  router.get('/', requireScope('read'), async (_req, res) => {
    res.json({ campaigns: await listCampaigns(db, principalOf(res).tenantId) });
  });

  router.post('/', requireScope('send'), json, async (req, res) => {
    if (!req.is(JSON_TYPES)) throw new UnsupportedMediaType();
    const input = validate(createSchema, req.body);
    const campaign = await createCampaign(db, { tenantId: principalOf(res).tenantId, name: input.name, channel: input.channel, subject: input.subject ?? null, body: input.body, now: deps.clock.now() });
    res.status(201).location(`/v1/campaigns/${campaign.id}`).json(campaign);
  });

  router.get('/:id', requireScope('read'), async (req, res) => {
    res.json(await load(res, uuidParam(req, 'id')));
  });

  // The body is the CSV itself, read as a stream; nothing is sent until the campaign is started.
  router.post('/:id/recipients', requireScope('send'), async (req, res) => {
    const id = uuidParam(req, 'id');
    if (!req.is(CSV_TYPES)) throw new UnsupportedMediaType();
    const { tenantId } = principalOf(res);
    const campaign = await load(res, id);
    if (campaign.status !== 'draft') throw new CampaignStateConflict(campaign.status, 'take more recipients');
    const now = deps.clock.now();
    const upload = await db.transaction(async (trx) => {
      // Holds off a concurrent start: recipients land in a draft or not at all.
      const locked = await trx('campaigns').where({ id, tenant_id: tenantId, status: 'draft' }).forShare().first('id');
      if (!locked) throw new CampaignStateConflict('started', 'take more recipients');
      let accepted = 0;
      const result = await readRecipients(req, campaign, async (rows) => {
        accepted += await addRecipients(trx, { tenantId, campaignId: id, rows, now });
      }, { maxBytes: MAX_CSV_BYTES });
      return recordUpload(trx, { tenantId, campaignId: id, rows: result.rows, accepted, duplicates: result.valid - accepted, rejected: result.rejected, now });
    });
    deps.logger.info('campaign recipients uploaded', { campaignId: id, rows: upload.rows, accepted: upload.accepted, duplicates: upload.duplicates, rejected: upload.rejectedCount });
    res.status(201).json({
      ...upload, rejected: upload.rejected.slice(0, 100),
      links: { report: `/v1/campaigns/${id}/uploads/${upload.id}/report`, campaign: `/v1/campaigns/${id}` },
    });
  });

  router.get('/:id/uploads/:uploadId/report', requireScope('read'), async (req, res) => {
    const id = uuidParam(req, 'id');
    const upload = await findUpload(db, principalOf(res).tenantId, id, uuidParam(req, 'uploadId'));
    if (!upload) throw new CampaignNotFound(id);
    const lines = ['line,reason', ...upload.rejected.map((r) => `${r.line},${csvField(r.reason)}`)];
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="upload-${upload.id}-report.csv"`);
    res.send(`${lines.join('\r\n')}\r\n`);
  });

  router.post('/:id/start', requireScope('send'), json, async (req, res) => {
    const id = uuidParam(req, 'id');
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody && !req.is(JSON_TYPES)) throw new UnsupportedMediaType();
    const input = validate(startSchema, hasBody ? req.body : {});
    const campaign = await load(res, id);
    if (campaign.counts.accepted === 0) throw new CampaignStateConflict('empty', 'start (upload recipients first)');
    const now = deps.clock.now();
    const sendAt = input.sendAt ? new Date(input.sendAt) : now;
    if (!(await startCampaign(db, { tenantId: principalOf(res).tenantId, id, sendAt, now }))) throw new CampaignStateConflict(campaign.status, 'be started');
    deps.logger.info('campaign started', { campaignId: id, sendAt: sendAt.toISOString() });
    deps.onStarted();
    res.json(await load(res, id));
  });

  router.post('/:id/cancel', requireScope('send'), async (req, res) => {
    const id = uuidParam(req, 'id');
    const campaign = await load(res, id);
    if (!(await cancelCampaign(db, { tenantId: principalOf(res).tenantId, id, now: deps.clock.now() }))) throw new CampaignStateConflict(campaign.status, 'be canceled');
    deps.logger.info('campaign canceled', { campaignId: id });
    res.json(await load(res, id));
  });

  router.get('/:id/messages', requireScope('read'), async (req, res) => {
    const id = uuidParam(req, 'id');
    const campaign = await load(res, id);
    const status = typeof req.query.status === 'string' && req.query.status !== '' ? req.query.status : undefined;
    if (status !== undefined && !(MESSAGE_FILTERS as readonly string[]).includes(status)) {
      throw new ValidationFailed([{ field: 'status', message: `"status" must be one of ${MESSAGE_FILTERS.join(', ')}`, type: 'any.only' }]);
    }
    const afterLine = Number(req.query.afterLine ?? 0);
    const limit = Math.min(500, Math.max(1, Number(req.query.limit ?? 100) || 100));
    const rows = await listCampaignMessages(db, { campaignId: id, status: status as MessageFilter | undefined, afterLine: Number.isFinite(afterLine) ? afterLine : 0, limit });
    res.json({
      messages: rows.map(({ recipient, ...r }) => ({
        ...r,
        to: maskRecipient(campaign.channel, recipient),
        links: {
          message: r.messageId ? `/v1/messages/${r.messageId}` : null,
          trace: r.traceId ? traceLink(deps.settings.traceViewUrl, r.traceId) : null,
          kibana: r.traceId && deps.settings.kibanaUrl ? `${deps.settings.kibanaUrl}/app/apm/link-to/trace/${r.traceId}` : null,
        },
      })),
      next: rows.length === limit ? rows[rows.length - 1]!.line : null,
    });
  });

  // Server-sent events: the counts whenever they change (checked once a second, server side), so a
  // page watching a campaign makes one request, not one per second.
  router.get('/:id/events', requireScope('read'), async (req, res) => {
    const id = uuidParam(req, 'id');
    const tenantId = principalOf(res).tenantId;
    await load(res, id);
    await streamChanges(req, res, {
      event: 'counts', intervalMs: deps.settings.eventsIntervalMs ?? 1000, logger: deps.logger,
      read: async () => {
        const campaign = await findCampaign(db, tenantId, id);
        return campaign ? { status: campaign.status, counts: campaign.counts } : null;
      },
    });
  });

  return router;
}

