import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, setCsrfToken, type Session } from './api';
import { SignIn } from './pages/SignIn';
import { Keys } from './pages/Keys';
import { Campaigns } from './pages/Campaigns';
import { NewCampaign } from './pages/NewCampaign';
import { CampaignDetail } from './pages/CampaignDetail';
import { Dashboard } from './pages/Dashboard';
import { TemplateEditor, Templates } from './pages/Templates';

function useHashRoute(): string {
  const [route, setRoute] = useState(() => window.location.hash.slice(1) || '/campaigns');
  useEffect(() => {
    const onChange = () => setRoute(window.location.hash.slice(1) || '/campaigns');
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const route = useHashRoute();

  useEffect(() => {
    api<Session>('GET', '/v1/session').then((s) => { setCsrfToken(s.csrfToken); setSession(s); }, () => setSession(null));
  }, []);

  const signedIn = useCallback((s: Session) => { setCsrfToken(s.csrfToken); setSession(s); }, []);
  const signOut = useCallback(async () => {
    try {
      await api('DELETE', '/v1/session');
    } catch (err) {
      if (!(err instanceof ApiError && err.problem.status === 401)) throw err;
    }
    setCsrfToken(null);
    setSession(null);
  }, []);

  if (session === undefined) return <main className="page"><p role="status">Loading…</p></main>;
  if (session === null) return <SignIn onSignedIn={signedIn} />;

  const campaign = /^\/campaigns\/([0-9a-f-]{36})$/.exec(route)?.[1];
  const template = /^\/templates\/edit\/([A-Za-z0-9._-]{1,128})$/.exec(route)?.[1];
  let page;
  if (route === '/keys') page = <Keys />;
  else if (route === '/dashboard') page = <Dashboard />;
  else if (route === '/templates') page = <Templates />;
  else if (route === '/templates/new') page = <TemplateEditor key="new" id={null} />;
  else if (template) page = <TemplateEditor key={template} id={template} />;
  else if (route === '/campaigns/new') page = <NewCampaign />;
  else if (campaign) page = <CampaignDetail id={campaign} />;
  else page = <Campaigns />;

  const current = (prefix: string) => (route.startsWith(prefix) ? 'page' : undefined);
  return (
    <>
      <a className="skip" href="#main">Skip to content</a>
      <header className="top">
        <span className="brand">Merchant console</span>
        <nav aria-label="Main">
          <a href="#/campaigns" aria-current={current('/campaigns')}>Campaigns</a>
          <a href="#/templates" aria-current={current('/templates')}>Templates</a>
          <a href="#/dashboard" aria-current={current('/dashboard')}>Dashboard</a>
          <a href="#/keys" aria-current={current('/keys')}>API keys</a>
        </nav>
        <span className="who">
          <span title={session.user.email}>{session.merchant.name}</span>
          <button type="button" className="link" onClick={() => void signOut()}>Sign out</button>
        </span>
      </header>
      <main id="main" className="page" tabIndex={-1}>{page}</main>
    </>
  );
}
