import { useEffect, useState } from 'react';
import { api, describe, type Campaign, type CampaignMessage, type Counts } from '../api';

const FILTERS = ['', 'queued', 'pending', 'sent', 'failed', 'canceled'] as const;
const COUNT_NAMES: Array<keyof Counts> = ['accepted', 'sent', 'failed', 'pending', 'canceled'];

/** Counts arrive over server-sent events (one connection, pushed when they change): no polling. */
export function CampaignDetail({ id }: { id: string }) {
  const [campaign, setCampaign] = useState<Campaign | null>(null);
  const [live, setLive] = useState<{ status: Campaign['status']; counts: Counts } | null>(null);
  const [messages, setMessages] = useState<CampaignMessage[] | null>(null);
  const [filter, setFilter] = useState<(typeof FILTERS)[number]>('');
  const [error, setError] = useState<string | null>(null);
  const [connected, setConnected] = useState(false);

  useEffect(() => {
    api<Campaign>('GET', `/v1/campaigns/${id}`).then(setCampaign, (err: unknown) => setError(describe(err)));
    const events = new EventSource(`/v1/campaigns/${id}/events`);
    events.addEventListener('counts', (e) => setLive(JSON.parse((e as MessageEvent<string>).data) as { status: Campaign['status']; counts: Counts }));
    events.onopen = () => setConnected(true);
    events.onerror = () => setConnected(false);
    return () => events.close();
  }, [id]);

  const counts = live?.counts ?? campaign?.counts;
  const status = live?.status ?? campaign?.status;
  // The message list follows the counts: reloaded when they change, not on a timer.
  const countsKey = counts ? COUNT_NAMES.map((k) => counts[k]).join(',') : '';
  useEffect(() => {
    const q = new URLSearchParams({ limit: '100', ...(filter ? { status: filter } : {}) });
    api<{ messages: CampaignMessage[] }>('GET', `/v1/campaigns/${id}/messages?${q.toString()}`).then((r) => setMessages(r.messages), (err: unknown) => setError(describe(err)));
  }, [id, filter, countsKey]);

  async function cancel() {
    if (!window.confirm('Cancel this campaign? Recipients not yet sent to will not be.')) return;
    try {
      const c = await api<Campaign>('POST', `/v1/campaigns/${id}/cancel`);
      setCampaign(c);
      setLive({ status: c.status, counts: c.counts });
    } catch (err) {
      setError(describe(err));
    }
  }

  if (!campaign) return error ? <p className="error" role="alert">{error}</p> : <p role="status">Loading…</p>;
  return (
    <>
      <p><a href="#/campaigns">← Campaigns</a></p>
      <div className="row">
        <h1>{campaign.name}</h1>
        <span className={`badge ${status}`} data-testid="status">{status}</span>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      <p className="help">
        {campaign.channel}{campaign.sendAt ? ` · ${status === 'scheduled' ? 'sends' : 'sent'} at ${new Date(campaign.sendAt).toLocaleString()}` : ''}
        {' · '}<span aria-live="polite">{connected ? 'live' : 'reconnecting…'}</span>
      </p>
      {counts && (
        <dl className="counts" aria-label="Counts by status" aria-live="polite">
          {COUNT_NAMES.map((k) => (
            <div key={k} className={`count ${k}`}><dt>{k}</dt><dd data-testid={`count-${k}`}>{counts[k]}</dd></div>
          ))}
        </dl>
      )}
      {counts && <p className="help">accepted {counts.accepted} = sent {counts.sent} + failed {counts.failed} + pending {counts.pending} + canceled {counts.canceled}</p>}
      {(status === 'scheduled' || status === 'running' || status === 'draft') && (
        <button type="button" className="danger" onClick={() => void cancel()}>Cancel campaign</button>
      )}
      <h2>Messages</h2>
      <label htmlFor="m-filter">Show</label>
      <select id="m-filter" value={filter} onChange={(e) => setFilter(e.target.value as typeof filter)}>
        {FILTERS.map((f) => <option key={f} value={f}>{f || 'all'}</option>)}
      </select>
      <div className="table-wrap">
        <table>
          <caption>First 100 messages{filter ? ` (${filter})` : ''}</caption>
          <thead><tr><th scope="col">Line</th><th scope="col">To</th><th scope="col">Status</th><th scope="col">Trace</th></tr></thead>
          <tbody>
            {messages?.map((m) => (
              <tr key={m.line}>
                <td>{m.line}</td>
                <td>{m.to}</td>
                <td><span className={`badge ${m.status}`}>{m.status}</span></td>
                <td>
                  {m.links.trace && <a href={m.links.trace} target="_blank" rel="noopener noreferrer">waterfall<span className="sr-only"> for line {m.line}</span></a>}
                  {m.links.kibana && <> · <a href={m.links.kibana} target="_blank" rel="noopener noreferrer">Kibana APM<span className="sr-only"> for line {m.line}</span></a></>}
                  {!m.links.trace && !m.links.kibana && '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
