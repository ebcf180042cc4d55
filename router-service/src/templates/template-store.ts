import type { Knex } from 'knex';
import type { TemplateView } from '@ca/contracts';
import type { TemplateInput } from './template-schema';

interface TemplateRow {
  template_id: string;
  version: number;
  category: string;
  default_locale: string;
  variants: TemplateView['variants'];
  rate_limit: TemplateView['rateLimit'];
  quiet_hours: TemplateView['quietHours'];
  created_at: Date;
}

function templateView(row: TemplateRow): TemplateView {
  return {
    templateId: row.template_id, version: row.version, category: row.category, defaultLocale: row.default_locale,
    variants: row.variants, rateLimit: row.rate_limit, quietHours: row.quiet_hours, createdAt: row.created_at.toISOString(),
  };
}

const UNIQUE_VIOLATION = '23505';
const COLUMNS = '(tenant_id, template_id, version, category, default_locale, variants, rate_limit, quiet_hours, created_at)';

function values(input: { tenantId: string; templateId: string; template: TemplateInput; now: Date }): Knex.RawBinding[] {
  const t = input.template;
  return [input.tenantId, input.templateId, t.category, t.defaultLocale, JSON.stringify(t.variants), t.rateLimit ? JSON.stringify(t.rateLimit) : null, t.quietHours ? JSON.stringify(t.quietHours) : null, input.now];
}

/** POST: version 1, or null when the template already exists (whatever its version). */
export async function createTemplate(db: Knex, input: { tenantId: string; templateId: string; template: TemplateInput; now: Date }): Promise<TemplateView | null> {
  const result = await db.raw<{ rows: TemplateRow[] }>(
    `INSERT INTO templates ${COLUMNS} SELECT ?, ?, 1, ?, ?, ?::jsonb, ?::jsonb, ?::jsonb, ? ON CONFLICT DO NOTHING RETURNING *`,
    values(input),
  );
  return result.rows[0] ? templateView(result.rows[0]) : null;
}

/**
 * PUT: inserts the next version (1 when there is none). Two concurrent PUTs may pick the same
 * number; the primary key lets one win and the other tries the number after it.
 */
export async function putTemplateVersion(db: Knex, input: { tenantId: string; templateId: string; template: TemplateInput; now: Date }): Promise<TemplateView> {
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await db.raw<{ rows: TemplateRow[] }>(
        `INSERT INTO templates ${COLUMNS}
         SELECT ?, ?, COALESCE((SELECT max(version) FROM templates WHERE tenant_id = ? AND template_id = ?), 0) + 1, ?, ?, ?::jsonb, ?::jsonb, ?::jsonb, ?
         RETURNING *`,
        [...values(input).slice(0, 2), input.tenantId, input.templateId, ...values(input).slice(2)],
      );
      return templateView(result.rows[0]!);
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION || attempt >= 4) throw err;
    }
  }
}

/** One version, or the latest when `version` is undefined. */
export async function findTemplate(db: Knex, tenantId: string, templateId: string, version?: number): Promise<TemplateView | null> {
  const q = db('templates').select('*').where({ tenant_id: tenantId, template_id: templateId });
  const row = await (version === undefined ? q.orderBy('version', 'desc') : q.andWhere({ version })).first<TemplateRow | undefined>();
  return row ? templateView(row) : null;
}

/** The latest version of each of the merchant's templates, by id. */
export async function listTemplates(db: Knex, tenantId: string, opts: { after?: string; limit: number }): Promise<TemplateView[]> {
  const rows = await db.raw<{ rows: TemplateRow[] }>(
    `SELECT DISTINCT ON (template_id) * FROM templates WHERE tenant_id = ? AND template_id > ?
     ORDER BY template_id, version DESC LIMIT ?`,
    [tenantId, opts.after ?? '', opts.limit],
  );
  return rows.rows.map(templateView);
}
