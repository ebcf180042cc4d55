import { useEffect, useState } from 'react';
import { api, describe, type Dashboard as DashboardView } from '../api';

const WINDOWS = [15, 60, 360, 1440] as const;

function percent(rate: number | null): string {
  return rate === null ? '—' : `${(rate * 100).toFixed(rate === 1 ? 0 : 1)}%`;
}

/**
 * Delivery numbers of this merchant per channel and provider, pushed by the router over
 * server-sent events whenever they change (the campaign page's mechanism): no polling, no reload.
 */
export function Dashboard() {
  const [windowMinutes, setWindowMinutes] = useState<(typeof WINDOWS)[number]>(60);
  const [view, setView] = useState<DashboardView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [connected, setConnected] = useState(false);

  useEffect(() => {
    setView(null);
    api<DashboardView>('GET', `/v1/dashboard?windowMinutes=${windowMinutes}`).then(setView, (err: unknown) => setError(describe(err)));
    const events = new EventSource(`/v1/dashboard/events?windowMinutes=${windowMinutes}`);
    events.addEventListener('stats', (e) => { setView(JSON.parse((e as MessageEvent<string>).data) as DashboardView); setError(null); });
    events.onopen = () => setConnected(true);
    events.onerror = () => setConnected(false);
    return () => events.close();
  }, [windowMinutes]);

  const rows = view?.rows ?? [];
  const total = rows.reduce((t, r) => ({ sent: t.sent + r.sent, failed: t.failed + r.failed, retries: t.retries + r.retries, perMinute: t.perMinute + r.sentPerMinute }),
    { sent: 0, failed: 0, retries: 0, perMinute: 0 });
  const totals: Array<[string, string, number | string]> = [
    ['sent', 'Sent', total.sent], ['failed', 'Failed', total.failed], ['retries', 'Retries', total.retries],
    ['rate', 'Sent per minute', total.perMinute], ['success', 'Success rate', percent(total.sent + total.failed ? total.sent / (total.sent + total.failed) : null)],
  ];
  return (
    <>
      <div className="row">
        <h1>Delivery dashboard</h1>
        <span className="help" aria-live="polite">{connected ? 'live' : 'reconnecting…'}</span>
      </div>
      <label htmlFor="d-window">Messages accepted in the last</label>
      <select id="d-window" value={windowMinutes} onChange={(e) => setWindowMinutes(Number(e.target.value) as typeof windowMinutes)}>
        {WINDOWS.map((w) => <option key={w} value={w}>{w < 60 ? `${w} minutes` : `${w / 60} hour${w === 60 ? '' : 's'}`}</option>)}
      </select>
      {error && <p className="error" role="alert">{error}</p>}
      <dl className="counts" aria-label="Totals">
        {totals.map(([key, label, value]) => (
          <div key={key} className={`count ${key}`}><dt>{label}</dt><dd data-testid={`total-${key}`}>{value}</dd></div>
        ))}
      </dl>
      <div className="table-wrap">
        <table aria-label="By channel and provider">
          <caption>By channel and provider{view ? `, since ${new Date(view.since).toLocaleTimeString()}` : ''}</caption>
          <thead>
            <tr>
              <th scope="col">Channel</th><th scope="col">Provider</th><th scope="col">Sent</th><th scope="col">Failed</th>
              <th scope="col">Retries</th><th scope="col">Retrying</th><th scope="col">Pending</th><th scope="col">Per minute</th><th scope="col">Success</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.channel}/${r.provider}`} data-testid={`row-${r.channel}-${r.provider}`}>
                <th scope="row">{r.channel}</th>
                <td>{r.provider}</td>
                <td data-testid="sent">{r.sent}</td>
                <td>{r.failed}</td>
                <td>{r.retries}</td>
                <td>{r.retrying}</td>
                <td>{r.pending}</td>
                <td>{r.sentPerMinute}</td>
                <td>{percent(r.successRate)}</td>
              </tr>
            ))}
            {view && rows.length === 0 && <tr><td colSpan={9}>No messages in this window yet.</td></tr>}
          </tbody>
        </table>
      </div>
    </>
  );
}
