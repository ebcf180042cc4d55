import express, { Router } from 'express';
import type { Knex } from 'knex';
import { ATTR, SPAN, type TemplatePreview } from '@ca/contracts';
import { inSpan, type Logger } from '@ca/telemetry';
import { principalOf, requireScope } from '../auth/authenticate';
import type { Clock } from '../clock';
import { TemplateExists, TemplateNotFound, UnsupportedMediaType, ValidationFailed } from '../errors';
import { validateWith } from '../validation/validate-with';
import { checkTemplateSources, renderVariant } from './render-template';
import { createTemplate, findTemplate, listTemplates, putTemplateVersion } from './template-store';
import { previewSchema, TEMPLATE_ID, templateSchema, type PreviewInput, type TemplateInput } from './template-schema';

const JSON_TYPES = ['application/json', 'application/*+json'];

function templateIdOf(raw: unknown): string {
  const id = String(raw);
  if (!TEMPLATE_ID.test(id)) throw new ValidationFailed([{ field: 'templateId', message: '"templateId" must be 1-128 characters [A-Za-z0-9._-]', type: 'string.pattern.base' }]);
  return id;
}

function versionOf(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 2_147_483_647) throw new ValidationFailed([{ field: 'version', message: '"version" must be a positive integer', type: 'number.base' }]);
  return n;
}

/**
 * /v1/templates: POST creates version 1 (409 if the id exists), PUT adds the next version (creates
 * version 1 if there is none), GET reads the latest (or ?version=n), POST …/preview renders one
 * channel without sending. A message records the template id and the version it rendered.
 */
export function templatesRouter(deps: { db: Knex; clock: Clock; logger: Logger; bodyLimit: string }): Router {
  const router = Router();
  const json = express.json({ limit: deps.bodyLimit, type: JSON_TYPES });
  const readTemplate = (body: unknown): TemplateInput => {
    const template = validateWith<TemplateInput>(templateSchema, body);
    checkTemplateSources(template.variants);
    return template;
  };

  router.get('/', requireScope('read'), async (req, res) => {
    const limit = Math.min(Math.max(Number(req.query.limit ?? 100) || 100, 1), 500);
    const after = typeof req.query.after === 'string' ? req.query.after : undefined;
    const items = await listTemplates(deps.db, principalOf(res).tenantId, { after, limit });
    res.json({ items, next: items.length === limit ? items[items.length - 1]!.templateId : null });
  });

  router.post('/:templateId', requireScope('send'), json, async (req, res) => {
    if (!req.is(JSON_TYPES)) throw new UnsupportedMediaType();
    const templateId = templateIdOf(req.params.templateId);
    const template = readTemplate(req.body);
    const tenantId = principalOf(res).tenantId;
    const created = await createTemplate(deps.db, { tenantId, templateId, template, now: deps.clock.now() });
    if (!created) throw new TemplateExists(templateId, (await findTemplate(deps.db, tenantId, templateId))?.version ?? 1);
    res.status(201).location(`/v1/templates/${templateId}`).json(created);
  });

  router.put('/:templateId', requireScope('send'), json, async (req, res) => {
    if (!req.is(JSON_TYPES)) throw new UnsupportedMediaType();
    const templateId = templateIdOf(req.params.templateId);
    const template = readTemplate(req.body);
    const view = await putTemplateVersion(deps.db, { tenantId: principalOf(res).tenantId, templateId, template, now: deps.clock.now() });
    res.status(view.version === 1 ? 201 : 200).location(`/v1/templates/${templateId}`).json(view);
  });

  router.get('/:templateId', requireScope('read'), async (req, res) => {
    const templateId = templateIdOf(req.params.templateId);
    const version = versionOf(req.query.version);
    const view = await findTemplate(deps.db, principalOf(res).tenantId, templateId, version);
    if (!view) throw new TemplateNotFound(templateId, version);
    res.json(view);
  });

  router.post('/:templateId/preview', requireScope('read'), json, async (req, res) => {
    if (!req.is(JSON_TYPES)) throw new UnsupportedMediaType();
    const templateId = templateIdOf(req.params.templateId);
    const input = validateWith<PreviewInput>(previewSchema, req.body);
    const template = await findTemplate(deps.db, principalOf(res).tenantId, templateId, input.version);
    if (!template) throw new TemplateNotFound(templateId, input.version);
    const rendered = await inSpan(SPAN.render, { [ATTR.templateId]: templateId, [ATTR.templateVersion]: template.version, [ATTR.channel]: input.channel }, async () =>
      renderVariant(template, input.channel, input.locale, input.params));
    const preview: TemplatePreview = {
      templateId, version: template.version, channel: input.channel, locale: rendered.locale,
      subject: rendered.subject, text: rendered.text, html: rendered.html, sms: rendered.sms,
    };
    res.json(preview);
  });

  return router;
}
