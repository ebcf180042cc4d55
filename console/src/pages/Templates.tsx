import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, describe, type Channel, type ChannelVariant, type Template, type TemplatePreview } from '../api';

const CHANNELS: Array<{ id: Channel; label: string; subject: 'required' | 'optional' | null; html: boolean }> = [
  { id: 'email', label: 'Email', subject: 'required', html: true },
  { id: 'sms', label: 'SMS', subject: null, html: false },
  { id: 'whatsapp', label: 'WhatsApp', subject: null, html: false },
  { id: 'push', label: 'Push', subject: 'optional', html: false },
];

/** Template list: GET /v1/templates (latest version of each). */
export function Templates() {
  const [items, setItems] = useState<Template[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ items: Template[] }>('GET', '/v1/templates?limit=500').then((r) => setItems(r.items), (err: unknown) => setError(describe(err)));
  }, []);
  return (
    <>
      <div className="row">
        <h1>Templates</h1>
        <a className="button" href="#/templates/new">New template</a>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      {items?.length === 0 && <p>No templates yet.</p>}
      {items && items.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption>Templates of this merchant (latest version)</caption>
            <thead><tr><th scope="col">Template</th><th scope="col">Version</th><th scope="col">Channels</th><th scope="col">Category</th><th scope="col">Updated</th></tr></thead>
            <tbody>
              {items.map((t) => (
                <tr key={t.templateId}>
                  <td><a href={`#/templates/edit/${t.templateId}`}>{t.templateId}</a></td>
                  <td>{t.version}</td>
                  <td>{Object.keys(t.variants[t.defaultLocale] ?? {}).join(', ')}</td>
                  <td>{t.category}</td>
                  <td>{new Date(t.createdAt).toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

type Draft = Record<Channel, { on: boolean; subject: string; text: string; html: string }>;

function emptyDraft(): Draft {
  const blank = { on: false, subject: '', text: '', html: '' };
  return { email: { ...blank }, sms: { ...blank }, whatsapp: { ...blank }, push: { ...blank } };
}

function draftOf(t: Template): Draft {
  const d = emptyDraft();
  const variants = t.variants[t.defaultLocale] ?? {};
  for (const c of CHANNELS) {
    const v = variants[c.id];
    if (v) d[c.id] = { on: true, subject: v.subject ?? '', text: v.text, html: v.html ?? '' };
  }
  return d;
}

function variantsOf(d: Draft): Partial<Record<Channel, ChannelVariant>> {
  const out: Partial<Record<Channel, ChannelVariant>> = {};
  for (const c of CHANNELS) {
    const v = d[c.id];
    if (!v.on) continue;
    out[c.id] = { text: v.text, ...(c.subject && v.subject ? { subject: v.subject } : {}), ...(c.html && v.html ? { html: v.html } : {}) };
  }
  return out;
}

/**
 * Create (id = null) or edit a template's default-locale variants. Saving an existing template
 * makes a new version (PUT); other locales are kept as they are. The preview renders the saved
 * version shown (POST …/preview) from the sample parameters, debounced while typing.
 */
export function TemplateEditor({ id }: { id: string | null }) {
  const [templateId, setTemplateId] = useState(id ?? '');
  const [template, setTemplate] = useState<Template | null>(null);
  const [latest, setLatest] = useState<number | null>(null);
  const [category, setCategory] = useState('transactional');
  const [locale, setLocale] = useState('en');
  const [quiet, setQuiet] = useState({ on: false, start: '21:00', end: '08:00' });
  const [draft, setDraft] = useState<Draft>(() => ({ ...emptyDraft(), email: { on: true, subject: '', text: '', html: '' } }));
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  const show = (t: Template) => {
    setTemplate(t);
    setCategory(t.category);
    setLocale(t.defaultLocale);
    setDraft(draftOf(t));
    setQuiet(t.quietHours ? { on: true, ...t.quietHours } : { on: false, start: '21:00', end: '08:00' });
  };

  useEffect(() => {
    if (!id) return;
    api<Template>('GET', `/v1/templates/${id}`).then((t) => { show(t); setLatest(t.version); }, (err: unknown) => setError(describe(err)));
  }, [id]);

  async function openVersion(v: number) {
    setError(null);
    setSaved(null);
    try {
      show(await api<Template>('GET', `/v1/templates/${templateId}?version=${v}`));
    } catch (err) {
      setError(describe(err));
    }
  }

  async function save(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setSaved(null);
    const body = {
      category, defaultLocale: locale,
      variants: { ...(template?.variants ?? {}), [locale]: variantsOf(draft) },
      // A new version replaces the whole template: keep its options.
      rateLimit: template?.rateLimit ?? null,
      quietHours: quiet.on ? { start: quiet.start, end: quiet.end } : null,
    };
    try {
      const t = await api<Template>(id ? 'PUT' : 'POST', `/v1/templates/${templateId}`, body);
      setSaved(`Saved version ${t.version}.`);
      show(t);
      setLatest(t.version);
      if (!id) window.location.hash = `#/templates/edit/${t.templateId}`;
    } catch (err) {
      setError(describe(err));
    }
  }

  const setField = (c: Channel, field: 'on' | 'subject' | 'text' | 'html', value: string | boolean) =>
    setDraft((d) => ({ ...d, [c]: { ...d[c], [field]: value } }));
  const viewingOld = template !== null && latest !== null && template.version !== latest;

  return (
    <>
      <p><a href="#/templates">← Templates</a></p>
      <h1>{id ? `Template ${id}` : 'New template'}</h1>
      {error && <p className="error" role="alert">{error}</p>}
      {saved && <p role="status">{saved}</p>}
      <div className="split">
        <form className="card" onSubmit={(e) => void save(e)} aria-label="Template">
          <h2>{template ? `Version ${template.version}${viewingOld ? ' (older version)' : ''}` : 'Variants'}</h2>
          {viewingOld && <p className="help">Saving makes this content the new latest version.</p>}
          <label htmlFor="tpl-id">Template ID</label>
          <input id="tpl-id" value={templateId} readOnly={id !== null} required pattern="[A-Za-z0-9._\-]{1,128}"
            aria-describedby="tpl-id-help" onChange={(e) => setTemplateId(e.target.value)} />
          <p id="tpl-id-help" className="help">Letters, digits, dot, dash, underscore — e.g. ORDER_SHIPPED. Parameters are written in Liquid: <code>{'{{ orderId }}'}</code>.</p>
          <label htmlFor="tpl-category">Category</label>
          <input id="tpl-category" value={category} required onChange={(e) => setCategory(e.target.value)} />
          <label htmlFor="tpl-locale">Locale</label>
          <input id="tpl-locale" value={locale} required onChange={(e) => setLocale(e.target.value)} />
          <fieldset className="variant" aria-describedby="tpl-quiet-help">
            <legend>
              <label className="inline"><input type="checkbox" checked={quiet.on} onChange={(e) => setQuiet((q) => ({ ...q, on: e.target.checked }))} /> Quiet hours</label>
            </legend>
            <p id="tpl-quiet-help" className="help">In each user&apos;s time zone: notifications that are not HIGH priority (and not <code>security</code>) wait until the end.</p>
            {quiet.on && (
              <div className="row">
                <span><label htmlFor="tpl-quiet-start">Quiet hours start</label>
                  <input id="tpl-quiet-start" type="time" required value={quiet.start} onChange={(e) => setQuiet((q) => ({ ...q, start: e.target.value }))} /></span>
                <span><label htmlFor="tpl-quiet-end">Quiet hours end</label>
                  <input id="tpl-quiet-end" type="time" required value={quiet.end} onChange={(e) => setQuiet((q) => ({ ...q, end: e.target.value }))} /></span>
              </div>
            )}
          </fieldset>
          {CHANNELS.map((c) => (
            <fieldset key={c.id} className="variant">
              <legend>
                <label className="inline"><input type="checkbox" checked={draft[c.id].on} onChange={(e) => setField(c.id, 'on', e.target.checked)} /> {c.label}</label>
              </legend>
              {draft[c.id].on && (
                <>
                  {c.subject && (
                    <>
                      <label htmlFor={`tpl-${c.id}-subject`}>{c.label} subject{c.subject === 'optional' ? ' (optional)' : ''}</label>
                      <input id={`tpl-${c.id}-subject`} value={draft[c.id].subject} required={c.subject === 'required'} onChange={(e) => setField(c.id, 'subject', e.target.value)} />
                    </>
                  )}
                  <label htmlFor={`tpl-${c.id}-text`}>{c.label} text</label>
                  <textarea id={`tpl-${c.id}-text`} rows={3} value={draft[c.id].text} required onChange={(e) => setField(c.id, 'text', e.target.value)} />
                  {c.html && (
                    <>
                      <label htmlFor={`tpl-${c.id}-html`}>{c.label} HTML (optional)</label>
                      <textarea id={`tpl-${c.id}-html`} rows={3} value={draft[c.id].html} onChange={(e) => setField(c.id, 'html', e.target.value)} />
                    </>
                  )}
                </>
              )}
            </fieldset>
          ))}
          <button type="submit" disabled={!CHANNELS.some((c) => draft[c.id].on)}>{id ? 'Save new version' : 'Create template'}</button>
        </form>
        <div>
          {template ? <Preview template={template} /> : <p className="card help">Create the template to preview it with sample parameters.</p>}
          {latest !== null && <Versions templateId={templateId} latest={latest} current={template?.version ?? latest} onOpen={(v) => void openVersion(v)} />}
        </div>
      </div>
    </>
  );
}

type PreviewResult = { ok: true; preview: TemplatePreview } | { ok: false; message: string; missing?: string[] };

function Preview({ template }: { template: Template }) {
  const [params, setParams] = useState('{}');
  const [results, setResults] = useState<Partial<Record<Channel, PreviewResult>>>({});
  const [jsonError, setJsonError] = useState<string | null>(null);
  const channels = CHANNELS.filter((c) => template.variants[template.defaultLocale]?.[c.id]);

  useEffect(() => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(params);
    } catch (err) {
      setJsonError(`Sample parameters are not valid JSON: ${(err as Error).message}`);
      return;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      setJsonError('Sample parameters must be a JSON object, e.g. {"orderId": "A1"}');
      return;
    }
    setJsonError(null);
    let stale = false;
    const timer = setTimeout(() => {
      void Promise.all(channels.map(async (c): Promise<[Channel, PreviewResult]> => {
        try {
          const preview = await api<TemplatePreview>('POST', `/v1/templates/${template.templateId}/preview`,
            { channel: c.id, locale: template.defaultLocale, version: template.version, params: parsed });
          return [c.id, { ok: true, preview }];
        } catch (err) {
          const missing = err instanceof ApiError ? err.problem.missing : undefined;
          return [c.id, { ok: false, message: describe(err), missing }];
        }
      })).then((entries) => { if (!stale) setResults(Object.fromEntries(entries)); });
    }, 350);
    return () => { stale = true; clearTimeout(timer); };
  }, [params, template]);

  return (
    <section className="card" aria-labelledby="preview-h">
      <h2 id="preview-h">Preview of version {template.version}</h2>
      <label htmlFor="tpl-params">Sample parameters (JSON)</label>
      <textarea id="tpl-params" rows={4} spellCheck={false} value={params} aria-describedby="tpl-params-help" onChange={(e) => setParams(e.target.value)} />
      <p id="tpl-params-help" className="help">Rendered by the server as a notification would be; nothing is sent.</p>
      {jsonError && <p className="error" role="alert">{jsonError}</p>}
      <div aria-live="polite">
        {channels.map((c) => {
          const r = results[c.id];
          return (
            <article key={c.id} className="preview" aria-label={`${c.label} preview`}>
              <h3>{c.label}</h3>
              {!r && <p className="help">Rendering…</p>}
              {r && !r.ok && (
                <p className="error" role="alert">
                  {r.missing ? `Missing parameters: ${r.missing.join(', ')}` : r.message}
                </p>
              )}
              {r?.ok && (
                <>
                  {r.preview.subject !== null && <p><strong>Subject:</strong> <span data-testid={`preview-${c.id}-subject`}>{r.preview.subject}</span></p>}
                  <pre data-testid={`preview-${c.id}-text`}>{r.preview.text}</pre>
                  {r.preview.html !== null && <pre data-testid={`preview-${c.id}-html`}>{r.preview.html}</pre>}
                  {r.preview.sms && <p className="help">{r.preview.sms.encoding}, {r.preview.sms.segments} segment(s), {r.preview.sms.units} units</p>}
                </>
              )}
            </article>
          );
        })}
      </div>
    </section>
  );
}

/** Every version, newest first: the API reads any version with ?version=n. */
function Versions({ templateId: id, latest, current, onOpen }: { templateId: string; latest: number; current: number; onOpen: (v: number) => void }) {
  const [rows, setRows] = useState<Template[] | null>(null);
  useEffect(() => {
    const versions = Array.from({ length: Math.min(latest, 50) }, (_, i) => latest - i);
    void Promise.all(versions.map((v) => api<Template>('GET', `/v1/templates/${id}?version=${v}`))).then(setRows, () => setRows([]));
  }, [id, latest]);
  return (
    <div className="table-wrap">
      <table>
        <caption>Version history</caption>
        <thead><tr><th scope="col">Version</th><th scope="col">Saved</th><th scope="col">Channels</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {rows?.map((t) => (
            <tr key={t.version} aria-current={t.version === current ? 'true' : undefined}>
              <td>{t.version}{t.version === latest ? ' (latest)' : ''}</td>
              <td>{new Date(t.createdAt).toLocaleString()}</td>
              <td>{Object.keys(t.variants[t.defaultLocale] ?? {}).join(', ')}</td>
              <td>{t.version !== current && <button type="button" className="secondary" onClick={() => onOpen(t.version)} aria-label={`Open version ${t.version}`}>Open</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
