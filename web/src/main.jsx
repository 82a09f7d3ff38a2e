import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { get, login, logout, sessionToken, setUnauthorizedHandler, forgetSession } from './api.js';
import { LiveContext, useLivePoller } from './live.js';
import { ErrorNote, Field } from './ui.jsx';
import { Dashboard } from './pages/dashboard.jsx';
import { Certificates } from './pages/certificates.jsx';
import { Devices } from './pages/devices.jsx';
import { Audit } from './pages/audit.jsx';
import { Users } from './pages/users.jsx';

// Client-side routes; castellan answers index.html for each, so a reload or a link works.
const PAGES = [
  { path: '/', label: 'Dashboard', component: Dashboard },
  { path: '/certificates', label: 'Client certificates', component: Certificates },
  { path: '/devices', label: 'Device registry', component: Devices },
  { path: '/audit', label: 'Audit log', component: Audit, role: 'SecurityAdmin' },
  { path: '/users', label: 'Users & tokens', component: Users, role: 'SecurityAdmin' },
];

function usePath() {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const on = () => setPath(window.location.pathname);
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);
  const navigate = (to) => {
    if (to !== window.location.pathname + window.location.search) window.history.pushState(null, '', to);
    setPath(window.location.pathname);
  };
  return [path, navigate];
}

function Login({ onLoggedIn }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(name, password);
      setPassword('');
      onLoggedIn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">castellan</h1>
        <p class="muted">Certificate and access authority — sign in</p>
        <Field label="User name">
          <input name="username" autocomplete="username" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field label="Password">
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </Field>
        <ErrorNote error={error} />
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}

// A page this user may not see says which role it needs, rather than pretending not to exist.
function NotHere({ path, me, home }) {
  const locked = PAGES.find((p) => p.path !== '/' && (path === p.path || path.startsWith(`${p.path}/`)));
  return (
    <p role="alert">
      {locked
        ? `${locked.label} needs the role ${locked.role}; ${me.name} holds ${me.roles.join(', ') || 'no role'}. `
        : 'No such page. '}
      {home}
    </p>
  );
}

function Shell({ me, path, navigate, onLogout }) {
  const versions = useLivePoller(true);
  const pages = PAGES.filter((p) => !p.role || me.roles.includes(p.role));
  const page = pages.find((p) => (p.path === '/' ? path === '/' : path === p.path || path.startsWith(`${p.path}/`)));
  const Page = page ? page.component : null;
  useEffect(() => {
    document.title = page ? `${page.label} · castellan` : 'castellan';
    document.getElementById('main')?.focus();
  }, [page && page.path]);
  const link = (e, to) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <LiveContext.Provider value={versions}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">castellan</span>
        <nav aria-label="Main">
          <ul>
            {pages.map((p) => (
              <li key={p.path}>
                <a href={p.path} aria-current={page === p ? 'page' : undefined} onClick={(e) => link(e, p.path)}>
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who" title={me.roles.join(', ')}>
          {me.name}
        </span>
        <button type="button" onClick={onLogout}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {Page ? (
          <Page me={me} path={path} navigate={navigate} />
        ) : (
          <NotHere path={path} me={me} home={<a href="/" onClick={(e) => link(e, '/')}>Dashboard</a>} />
        )}
      </main>
    </LiveContext.Provider>
  );
}

function App() {
  const [path, navigate] = usePath();
  const [me, setMe] = useState(null);
  const [checking, setChecking] = useState(Boolean(sessionToken()));
  const loadMe = async () => {
    try {
      setMe(await get('/api/v1/me'));
    } catch {
      forgetSession();
      setMe(null);
    } finally {
      setChecking(false);
    }
  };
  useEffect(() => {
    setUnauthorizedHandler(() => {
      forgetSession();
      setMe(null);
    });
    if (sessionToken()) loadMe();
  }, []);
  if (checking) return <p class="loading">Loading…</p>;
  if (!me) return <Login onLoggedIn={loadMe} />;
  return (
    <Shell
      me={me}
      path={path}
      navigate={navigate}
      onLogout={async () => {
        await logout().catch(() => {});
        setMe(null);
      }}
    />
  );
}

render(<App />, document.getElementById('app'));
