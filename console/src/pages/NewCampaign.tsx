import { useState, type FormEvent } from 'react';
import { api, describe, type Campaign, type Upload } from '../api';

const CHANNELS = ['email', 'sms', 'whatsapp', 'push'] as const;
const ADDRESS_HINT: Record<(typeof CHANNELS)[number], string> = {
  email: 'email (or to)', sms: 'phone (or to)', whatsapp: 'phone (or to)', push: 'token (or to)',
};

/** Create (draft) → upload recipients and read the report → start now or at a time. */
export function NewCampaign() {
  const [campaign, setCampaign] = useState<Campaign | null>(null);
  const [name, setName] = useState('');
  const [channel, setChannel] = useState<(typeof CHANNELS)[number]>('email');
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [upload, setUpload] = useState<Upload | null>(null);
  const [when, setWhen] = useState<'now' | 'later'>('now');
  const [sendAt, setSendAt] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const hasSubject = channel === 'email' || channel === 'push';

  async function step(fn: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  }

  const create = (e: FormEvent) => {
    e.preventDefault();
    void step(async () => {
      setCampaign(await api<Campaign>('POST', '/v1/campaigns', { name, channel, body, ...(hasSubject && subject ? { subject } : {}) }));
    });
  };
  const send = (e: FormEvent) => {
    e.preventDefault();
    if (!campaign || !file) return;
    void step(async () => {
      setUpload(await api<Upload>('POST', `/v1/campaigns/${campaign.id}/recipients`, file, 'text/csv'));
    });
  };
  const start = () => {
    if (!campaign) return;
    void step(async () => {
      await api<Campaign>('POST', `/v1/campaigns/${campaign.id}/start`, when === 'later' && sendAt ? { sendAt: new Date(sendAt).toISOString() } : {});
      window.location.hash = `#/campaigns/${campaign.id}`;
    });
  };

  return (
    <>
      <h1>New campaign</h1>
      {error && <p className="error" role="alert">{error}</p>}
      <form className="card" onSubmit={create} aria-labelledby="step1">
        <h2 id="step1">1. Message</h2>
        <fieldset disabled={campaign !== null}>
          <label htmlFor="c-name">Campaign name</label>
          <input id="c-name" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
          <label htmlFor="c-channel">Channel</label>
          <select id="c-channel" value={channel} onChange={(e) => setChannel(e.target.value as typeof channel)}>
            {CHANNELS.map((c) => <option key={c} value={c}>{c}</option>)}
          </select>
          {hasSubject && (<>
            <label htmlFor="c-subject">Subject{channel === 'push' ? ' (title, optional)' : ''}</label>
            <input id="c-subject" required={channel === 'email'} value={subject} onChange={(e) => setSubject(e.target.value)} />
          </>)}
          <label htmlFor="c-body">Message text</label>
          <textarea id="c-body" required rows={4} value={body} onChange={(e) => setBody(e.target.value)} aria-describedby="c-body-help" />
          <p id="c-body-help" className="help">Use {'{{column}}'} to insert a value from the recipient's CSV row, e.g. Hello {'{{firstName}}'}.</p>
          {!campaign && <button type="submit" disabled={busy}>Create draft</button>}
        </fieldset>
      </form>

      {campaign && (
        <form className="card" onSubmit={send} aria-labelledby="step2">
          <h2 id="step2">2. Recipients</h2>
          <p className="help">A CSV file with a header row: a column <code>{ADDRESS_HINT[campaign.channel]}</code>, optionally <code>userId</code>, and one column per {'{{placeholder}}'}. Every row is checked; nothing is sent yet.</p>
          <label htmlFor="c-file">Recipients file (CSV)</label>
          <input id="c-file" type="file" accept=".csv,text/csv" required onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
          <button type="submit" disabled={busy || !file}>{busy ? 'Checking…' : 'Upload and check'}</button>
          {upload && (
            <div className="report" role="status" aria-live="polite">
              <p><strong>{upload.rows}</strong> rows: <strong data-testid="accepted">{upload.accepted}</strong> accepted, {upload.duplicates} already in this campaign, <strong data-testid="rejected">{upload.rejectedCount}</strong> rejected.</p>
              {upload.rejectedCount > 0 && (<>
                <div className="table-wrap">
                  <table>
                    <caption>Rejected rows</caption>
                    <thead><tr><th scope="col">Line</th><th scope="col">Reason</th></tr></thead>
                    <tbody>{upload.rejected.map((r) => <tr key={r.line}><td>{r.line}</td><td>{r.reason}</td></tr>)}</tbody>
                  </table>
                </div>
                <a href={upload.links.report} download>Download the report (CSV)</a>
              </>)}
            </div>
          )}
        </form>
      )}

      {upload && (
        <section className="card" aria-labelledby="step3">
          <h2 id="step3">3. Send</h2>
          <fieldset>
            <legend>When</legend>
            <label className="inline"><input type="radio" name="when" checked={when === 'now'} onChange={() => setWhen('now')} /> Now</label>
            <label className="inline"><input type="radio" name="when" checked={when === 'later'} onChange={() => setWhen('later')} /> At a time</label>
          </fieldset>
          {when === 'later' && (<>
            <label htmlFor="c-at">Send at (your local time)</label>
            <input id="c-at" type="datetime-local" required value={sendAt} onChange={(e) => setSendAt(e.target.value)} />
          </>)}
          <button type="button" onClick={start} disabled={busy || (when === 'later' && !sendAt)}>
            {when === 'now' ? 'Start campaign' : 'Schedule campaign'}
          </button>
        </section>
      )}
    </>
  );
}
