import { useEffect, useState, type FormEvent } from 'react';
import { api, describe, type ApiKey } from '../api';

const SCOPES = ['send', 'read', 'admin'] as const;

export function Keys() {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['send', 'read']);
  const [created, setCreated] = useState<{ key: string; prefix: string } | null>(null);

  const load = () => api<{ keys: ApiKey[] }>('GET', '/v1/keys').then((r) => setKeys(r.keys), (err: unknown) => setError(describe(err)));
  useEffect(() => { void load(); }, []);

  async function create(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      const k = await api<ApiKey & { key: string }>('POST', '/v1/keys', { scopes, ...(name ? { name } : {}) });
      setCreated({ key: k.key, prefix: k.prefix });
      setName('');
      await load();
    } catch (err) {
      setError(describe(err));
    }
  }

  async function revoke(k: ApiKey) {
    if (!window.confirm(`Revoke ${k.name ?? k.prefix}? Requests with it fail from now on.`)) return;
    try {
      await api('DELETE', `/v1/keys/${k.id}`);
      await load();
    } catch (err) {
      setError(describe(err));
    }
  }

  return (
    <>
      <h1>API keys</h1>
      {error && <p className="error" role="alert">{error}</p>}
      {created && (
        <div className="card notice" role="status">
          <p><strong>New key {created.prefix}…</strong> — copy it now: it is shown this once and never again.</p>
          <label htmlFor="new-key">Key</label>
          <input id="new-key" readOnly value={created.key} onFocus={(e) => e.target.select()} />
          <button type="button" className="secondary" onClick={() => setCreated(null)}>I have stored it</button>
        </div>
      )}
      <form className="card" onSubmit={(e) => void create(e)}>
        <h2>Create a key</h2>
        <label htmlFor="key-name">Name (optional)</label>
        <input id="key-name" value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
        <fieldset>
          <legend>Scopes</legend>
          {SCOPES.map((s) => (
            <label key={s} className="inline">
              <input type="checkbox" checked={scopes.includes(s)} onChange={(e) => setScopes(e.target.checked ? [...scopes, s] : scopes.filter((x) => x !== s))} /> {s}
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={scopes.length === 0}>Create key</button>
      </form>
      <div className="table-wrap">
        <table>
          <caption>Keys of this merchant</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">State</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {keys?.map((k) => (
              <tr key={k.id}>
                <td>{k.name ?? '—'}</td>
                <td><code>{k.prefix}</code></td>
                <td>{k.scopes.join(', ')}</td>
                <td>{new Date(k.createdAt).toLocaleString()}</td>
                <td>{k.revokedAt ? 'revoked' : k.expiresAt && new Date(k.expiresAt) < new Date() ? 'expired' : 'active'}</td>
                <td>{!k.revokedAt && <button type="button" className="danger" onClick={() => void revoke(k)} aria-label={`Revoke ${k.name ?? k.prefix}`}>Revoke</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
