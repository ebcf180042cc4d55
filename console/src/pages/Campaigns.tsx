import { useEffect, useState } from 'react';
import { api, describe, type Campaign } from '../api';

export function Campaigns() {
  const [campaigns, setCampaigns] = useState<Campaign[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ campaigns: Campaign[] }>('GET', '/v1/campaigns').then((r) => setCampaigns(r.campaigns), (err: unknown) => setError(describe(err)));
  }, []);

  return (
    <>
      <div className="row">
        <h1>Campaigns</h1>
        <a className="button" href="#/campaigns/new">New campaign</a>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      {campaigns?.length === 0 && <p>No campaigns yet. A campaign sends one message text to every recipient of a CSV file.</p>}
      {campaigns && campaigns.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption>Campaigns, newest first</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Channel</th><th scope="col">Status</th><th scope="col">Accepted</th><th scope="col">Sent</th><th scope="col">Failed</th><th scope="col">Pending</th><th scope="col">Canceled</th></tr></thead>
            <tbody>
              {campaigns.map((c) => (
                <tr key={c.id}>
                  <td><a href={`#/campaigns/${c.id}`}>{c.name}</a></td>
                  <td>{c.channel}</td>
                  <td><span className={`badge ${c.status}`}>{c.status}</span></td>
                  <td>{c.counts.accepted}</td><td>{c.counts.sent}</td><td>{c.counts.failed}</td><td>{c.counts.pending}</td><td>{c.counts.canceled}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
