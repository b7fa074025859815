/**
 * The Tether status page: the agent's apps, one app's objects with drift and owners, the audit
 * trail by commit, a commit's diff against the live cluster. Served by the agent at `/`,
 * bundled at build time (src/ui/bundle.ts); it talks only to the agent that served it.
 *
 * preact (4 KB) renders it: JSX and components typed by TypeScript like the rest of Tether,
 * without a framework's build chain or runtime weight, and a stable API since 2015.
 */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { AppsView } from '../shared/api.ts';
import { setToken, startLiveFeed, useApi, useFeed } from './api.ts';
import { AppPage } from './app-detail.tsx';
import { AppsPage } from './apps.tsx';
import { AuditPage } from './audit.tsx';
import { DiffPage } from './diff.tsx';
import { useRoute, type Route } from './parts.tsx';

type Theme = 'auto' | 'light' | 'dark';
const THEME_KEY = 'tether-theme';
const NEXT: Record<Theme, Theme> = { auto: 'light', light: 'dark', dark: 'auto' };

function storedTheme(): Theme {
  try {
    const t = localStorage.getItem(THEME_KEY);
    return t === 'light' || t === 'dark' ? t : 'auto';
  } catch {
    return 'auto';
  }
}

function applyTheme(t: Theme): void {
  if (t === 'auto') delete document.documentElement.dataset['theme'];
  else document.documentElement.dataset['theme'] = t;
  try {
    localStorage.setItem(THEME_KEY, t);
  } catch {
    // Not kept: the choice lasts for this page.
  }
}

function ThemeButton() {
  const [theme, setTheme] = useState<Theme>(storedTheme);
  useEffect(() => applyTheme(theme), [theme]);
  return (
    <button type="button" class="theme" onClick={() => setTheme(NEXT[theme])} title="Switch the colour theme">
      Theme: {theme}
      <span class="sr-only"> (switch to {NEXT[theme]})</span>
    </button>
  );
}

function TokenForm() {
  const [value, setValue] = useState('');
  return (
    <form
      class="token"
      aria-labelledby="token-h"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) setToken(value);
      }}
    >
      <h2 id="token-h">Access token needed</h2>
      <p>
        This agent protects its status page with a bearer token (<code>ui.auth.bearerTokenFile</code>). The
        token is kept for this browser tab only.
      </p>
      <label for="token">Access token</label>{' '}
      <input
        id="token"
        type="password"
        autocomplete="off"
        value={value}
        onInput={(e) => setValue(e.currentTarget.value)}
      />{' '}
      <button type="submit">Use token</button>
    </form>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.view) {
    case 'apps':
      return <AppsPage />;
    case 'app':
      return <AppPage name={route.name} />;
    case 'diff':
      return <DiffPage name={route.name} sha={route.sha} />;
    case 'audit':
      return <AuditPage app={route.app} group={route.group} />;
  }
}

const LIVE_TEXT = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' };

function Shell() {
  const route = useRoute();
  const { live, needsToken } = useFeed();
  const apps = useApi<AppsView>('/api/apps');
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  const key = `${route.view}/${'name' in route ? route.name : ''}`;
  // A new page moves the focus to its heading (not on the first load: Tab starts at the top).
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [key]);
  const agent = apps.data?.agent;
  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          main.current?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/">
          Tether
        </a>
        <nav aria-label="Main">
          <ul>
            <li>
              <a href="#/" {...(route.view !== 'audit' ? { 'aria-current': 'page' } : {})}>
                Apps
              </a>
            </li>
            <li>
              <a href="#/audit" {...(route.view === 'audit' ? { 'aria-current': 'page' } : {})}>
                Audit trail
              </a>
            </li>
          </ul>
        </nav>
        <span class={`live ${live}`} role="status">
          <span aria-hidden="true">● </span>
          {LIVE_TEXT[live]}
        </span>
        <ThemeButton />
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {needsToken && <TokenForm />}
        <Page route={route} />
      </main>
      <footer>
        {agent ? (
          <>
            Agent <code>{agent.identity}</code> {agent.version}
            {agent.leader ? '' : ' (standby: another replica leads)'} · read-only view
          </>
        ) : (
          'Read-only view'
        )}
      </footer>
    </>
  );
}

startLiveFeed();
render(<Shell />, document.getElementById('root')!);
