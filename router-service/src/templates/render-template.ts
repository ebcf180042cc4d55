import { Liquid, type Template } from 'liquidjs';
import { LIMITS, type Channel, type TemplateChannelVariant, type TemplateView } from '@ca/contracts';
import type { FieldError } from '../errors';
import { NotificationUndeliverable, RenderedTooLong, TemplateInvalid, TemplateParamsMissing } from '../errors';
import { smsLength, type SmsLength } from './sms-segments';

/**
 * LiquidJS, configured so a template (written by a merchant) and its parameters (from a client)
 * can do no more than fill in text: it interprets, never evaluates JavaScript; only own properties
 * of the parameters are read (no `constructor`/prototype walks); include/render/layout are refused
 * at parse time (no file access); render time and memory are bounded (no `(1..1e9)` loops); unknown
 * variables and filters are errors, not empty strings. HTML bodies escape every output by default.
 */
const OPTIONS = { strictVariables: true, strictFilters: true, ownPropertyOnly: true, templates: {}, renderLimit: 1000, memoryLimit: 10_000_000 } as const;
const FILE_TAGS = ['include', 'render', 'layout', 'block'];

function engine(escapeHtml: boolean): Liquid {
  const liquid = new Liquid(escapeHtml ? { ...OPTIONS, outputEscape: 'escape' } : OPTIONS);
  for (const tag of FILE_TAGS) {
    liquid.registerTag(tag, { parse() { throw new Error(`the ${tag} tag is not allowed in templates`); }, render() { return ''; } });
  }
  return liquid;
}

const textEngine = engine(false);
const htmlEngine = engine(true);

type Part = 'subject' | 'text' | 'html';
const PARTS: Part[] = ['subject', 'text', 'html'];

function parse(part: Part, source: string): Template[] {
  return (part === 'html' ? htmlEngine : textEngine).parse(source);
}

/** Parses every variant; a 400 lists each one that does not parse (path `variants.<locale>.<channel>.<part>`). */
export function checkTemplateSources(variants: TemplateView['variants']): void {
  const errors: FieldError[] = [];
  for (const [locale, channels] of Object.entries(variants)) {
    for (const [channel, variant] of Object.entries(channels)) {
      for (const part of PARTS) {
        const src = variant[part];
        if (src === undefined) continue;
        try {
          parse(part, src);
        } catch (err) {
          errors.push({ field: `variants.${locale}.${channel}.${part}`, message: (err as Error).message, type: 'template.syntax' });
        }
      }
    }
  }
  if (errors.length > 0) throw new TemplateInvalid(errors);
}

/**
 * Names (dotted paths) the templates use that `params` lacks, in order of first use. Walks each
 * template's AST for its global variables (loop variables and `assign`s are local, not params);
 * a path is followed as far as its segments are literal and the value is an object.
 */
export function missingParams(templates: Template[][], params: Record<string, unknown>): string[] {
  const missing = new Set<string>();
  for (const tpl of templates) {
    for (const segments of textEngine.globalVariableSegmentsSync(tpl)) {
      let value: unknown = params;
      const path: string[] = [];
      for (const seg of segments) {
        if (typeof seg !== 'string' && typeof seg !== 'number') break; // a[b]: dynamic, b is checked on its own
        const container = value;
        if (Array.isArray(container) || typeof container === 'string') {
          if (seg === 'size' || seg === 'first' || seg === 'last') break;
        }
        if (container === null || typeof container !== 'object' || !Object.hasOwn(container, seg)) {
          missing.add([...path, String(seg)].join('.'));
          break;
        }
        path.push(String(seg));
        value = (container as Record<string | number, unknown>)[seg];
      }
    }
  }
  return [...missing];
}

/** The locales tried for `wanted`, most specific first: de-AT → de → the template's default. */
export function localeChain(wanted: string | null | undefined, defaultLocale: string): string[] {
  const chain: string[] = [];
  const parts = (wanted ?? '').split('-').filter(Boolean);
  for (let n = parts.length; n > 0; n--) chain.push(parts.slice(0, n).join('-'));
  chain.push(defaultLocale);
  return [...new Set(chain.map((l) => l.toLowerCase()))];
}

export function pickVariant(template: TemplateView, channel: Channel, locale: string | null | undefined): { locale: string; variant: TemplateChannelVariant } {
  const byLower = new Map(Object.keys(template.variants).map((l) => [l.toLowerCase(), l]));
  for (const candidate of localeChain(locale, template.defaultLocale)) {
    const key = byLower.get(candidate);
    const variant = key ? template.variants[key]?.[channel] : undefined;
    if (key && variant) return { locale: key, variant };
  }
  throw new NotificationUndeliverable('no_variant', `Template ${template.templateId} v${template.version} has no ${channel} variant for locale ${locale ?? template.defaultLocale} or its fallbacks`);
}

export interface Rendered {
  locale: string;
  subject: string | null;
  text: string;
  html: string | null;
  sms: SmsLength | null;
}

export const MAX_SMS_SEGMENTS = 10;

/**
 * Renders one channel variant strictly: every missing parameter is reported at once (400), then
 * the rendered text is checked against the channel's limits (422).
 */
export function renderVariant(template: TemplateView, channel: Channel, locale: string | null | undefined, params: Record<string, unknown>): Rendered {
  const picked = pickVariant(template, channel, locale);
  const parsed = PARTS.flatMap((part) => (picked.variant[part] === undefined ? [] : [{ part, tpl: parse(part, picked.variant[part]) }]));
  const missing = missingParams(parsed.map((p) => p.tpl), params);
  if (missing.length > 0) throw new TemplateParamsMissing(missing);
  const out: Partial<Record<Part, string>> = {};
  for (const { part, tpl } of parsed) {
    try {
      out[part] = (part === 'html' ? htmlEngine : textEngine).renderSync(tpl, params) as string;
    } catch (err) {
      throw new NotificationUndeliverable('render_failed', `Template ${template.templateId} v${template.version} (${picked.locale}/${channel}/${part}) failed to render: ${(err as Error).message}`);
    }
  }
  const rendered: Rendered = { locale: picked.locale, subject: out.subject ?? null, text: out.text ?? '', html: out.html ?? null, sms: channel === 'sms' ? smsLength(out.text ?? '') : null };
  checkLimits(channel, rendered);
  return rendered;
}

function checkLimits(channel: Channel, r: Rendered): void {
  if (r.text.trim().length === 0) throw new RenderedTooLong(`The rendered ${channel} text is empty`, { channel, length: 0 });
  if (r.sms && r.sms.segments > MAX_SMS_SEGMENTS) {
    throw new RenderedTooLong(`The rendered SMS takes ${r.sms.segments} ${r.sms.encoding} segments; at most ${MAX_SMS_SEGMENTS}`, { channel, ...r.sms, maxSegments: MAX_SMS_SEGMENTS });
  }
  const max = LIMITS.body[channel];
  if (r.text.length > max) throw new RenderedTooLong(`The rendered ${channel} text has ${r.text.length} characters; at most ${max}`, { channel, length: r.text.length, max });
  if (r.html !== null && r.html.length > LIMITS.body.email) throw new RenderedTooLong(`The rendered HTML has ${r.html.length} characters; at most ${LIMITS.body.email}`, { channel, length: r.html.length, max: LIMITS.body.email });
  if (r.subject !== null && (r.subject.length > LIMITS.subject || /[\r\n]/.test(r.subject))) {
    throw new RenderedTooLong(`The rendered subject must be one line of at most ${LIMITS.subject} characters`, { channel, length: r.subject.length, max: LIMITS.subject });
  }
}
