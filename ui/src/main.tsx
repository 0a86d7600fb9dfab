// The console's shell: first-run setup, login (refused for non-admin roles), the page navigation
// (paths under /ui/, the server falls back to index.html for them), theme and logout.
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { NotAdminError, Session } from './session';
import { SqlPage } from './pages/Sql';
import { CatalogPage } from './pages/Catalog';
import { LivePage } from './pages/Live';
import { UsersPage } from './pages/Users';
import { StoragePage } from './pages/Storage';
import { DashboardPage } from './pages/Dashboard';
import './styles.css';

const PAGES = [
  { path: 'dashboard', title: 'Dashboard', key: '1' },
  { path: 'sql', title: 'SQL studio', key: '2' },
  { path: 'catalog', title: 'Catalog', key: '3' },
  { path: 'live', title: 'Live', key: '4' },
  { path: 'users', title: 'Users', key: '5' },
  { path: 'storage', title: 'Storages & jobs', key: '6' },
] as const;
type PagePath = (typeof PAGES)[number]['path'];

function currentPage(): PagePath {
  const p = location.pathname.replace(/^\/ui\/?/, '').split('/')[0];
  return (PAGES.find((x) => x.path === p)?.path ?? 'sql') as PagePath;
}

function useTheme(): [string, () => void] {
  const [theme, setTheme] = useState(
    () => localStorage.getItem('kalam.theme') ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'),
  );
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('kalam.theme', theme);
  }, [theme]);
  return [theme, () => setTheme((t) => (t === 'dark' ? 'light' : 'dark'))];
}

function Login({ onSession, setupDone, expired }: { onSession: (s: Session) => void; setupDone: boolean; expired: boolean }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="card auth"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError('');
        try {
          onSession(await Session.login(user, password));
        } catch (err) {
          setError(err instanceof NotAdminError ? err.message : `${(err as { code?: string }).code ?? 'ERROR'}: ${(err as Error).message}`);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h1>KalamDB console</h1>
      {setupDone && <p className="ok" data-testid="setup-done">Setup complete. Log in with the new admin user.</p>}
      {expired && <p className="error" role="alert" data-testid="session-expired">Your session has expired. Log in again.</p>}
      <label>User <input name="user" autoFocus autoComplete="username" value={user} onChange={(e) => setUser(e.target.value)} /></label>
      <label>Password <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} /></label>
      <button type="submit" disabled={busy || !user}>Log in</button>
      {error && <p className="error" role="alert" data-testid="login-error">{error}</p>}
    </form>
  );
}

function Setup({ onDone }: { onDone: () => void }) {
  const [user, setUser] = useState('admin');
  const [password, setPassword] = useState('');
  const [rootPassword, setRootPassword] = useState('');
  const [error, setError] = useState('');
  return (
    <form
      className="card auth"
      onSubmit={async (e) => {
        e.preventDefault();
        setError('');
        try {
          await Session.setup(user, password, rootPassword);
          onDone();
        } catch (err) {
          setError(`${(err as { code?: string }).code}: ${(err as Error).message}`);
        }
      }}
    >
      <h1>First-run setup</h1>
      <p>Set the password of <code>root</code> and create the first admin user (role dba).</p>
      <label>Admin user <input name="setup-user" value={user} onChange={(e) => setUser(e.target.value)} /></label>
      <label>Admin password <input name="setup-password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} /></label>
      <label>Root password <input name="setup-root-password" type="password" autoComplete="new-password" value={rootPassword} onChange={(e) => setRootPassword(e.target.value)} /></label>
      <button type="submit" disabled={!user || !password || !rootPassword}>Set up</button>
      {error && <p className="error" role="alert" data-testid="setup-error">{error}</p>}
    </form>
  );
}

function App() {
  const [state, setState] = useState<'loading' | 'setup' | 'login' | 'in'>('loading');
  const [session, setSession] = useState<Session | null>(null);
  const [setupDone, setSetupDone] = useState(false);
  const [expired, setExpired] = useState(false);
  // A session whose refresh cookie stops working sends the page back to the login form.
  const enter = (s: Session) => {
    s.onExpired = () => {
      setExpired(true);
      setSession(null);
      setState('login');
    };
    setExpired(false);
    setSession(s);
    setState('in');
  };
  const [page, setPage] = useState<PagePath>(currentPage);
  const [theme, toggleTheme] = useTheme();

  useEffect(() => {
    (async () => {
      if (await Session.needsSetup()) return setState('setup');
      const s = await Session.resume();
      if (s) enter(s);
      else setState('login');
    })();
  }, []);
  useEffect(() => {
    const onPop = () => setPage(currentPage());
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  const go = (p: PagePath) => {
    history.pushState(null, '', '/ui/' + p);
    setPage(p);
  };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.altKey && !e.ctrlKey && !e.metaKey) {
        const p = PAGES.find((x) => x.key === e.key);
        if (p) {
          e.preventDefault();
          go(p.path);
        }
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);

  if (state === 'loading') return <div className="center">Loading…</div>;
  if (state === 'setup') return <div className="center"><Setup onDone={() => { setSetupDone(true); setState('login'); }} /></div>;
  if (state === 'login' || !session) {
    return (
      <div className="center">
        <Login setupDone={setupDone} expired={expired} onSession={enter} />
      </div>
    );
  }
  const client = session.client;
  return (
    <div className="shell">
      <nav className="side" aria-label="Pages">
        <div className="brand">KalamDB</div>
        {PAGES.map((p) => (
          <a
            key={p.path}
            href={'/ui/' + p.path}
            className={page === p.path ? 'active' : ''}
            aria-current={page === p.path ? 'page' : undefined}
            title={`Alt+${p.key}`}
            onClick={(e) => {
              e.preventDefault();
              go(p.path);
            }}
          >
            {p.title}
          </a>
        ))}
        <div className="grow" />
        <div className="who" data-testid="who">{session.user.id} ({session.user.role})</div>
        <button className="secondary" onClick={toggleTheme}>{theme === 'dark' ? 'Light' : 'Dark'} theme</button>
        <button
          className="secondary"
          onClick={async () => {
            await session.logout();
            setSession(null);
            setState('login');
          }}
        >
          Log out
        </button>
      </nav>
      <main>
        {page === 'dashboard' && <DashboardPage client={client} />}
        {page === 'sql' && <SqlPage client={client} />}
        {page === 'catalog' && <CatalogPage client={client} />}
        {page === 'live' && <LivePage client={client} />}
        {page === 'users' && <UsersPage client={client} />}
        {page === 'storage' && <StoragePage client={client} />}
      </main>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
