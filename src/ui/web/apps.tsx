/** The apps: sync state, health, tracked ref, seen and applied commits, errors, next poll; filter and search. */
import { useState } from 'preact/hooks';
import type { AppsView } from '../shared/api.ts';
import { useApi } from './api.ts';
import { appMatches } from './format.ts';
import { appHref, Badge, Commit, Head, Problem, SearchField, Time, useNow } from './parts.tsx';

export function AppsPage() {
  const { data, error } = useApi<AppsView>('/api/apps');
  const now = useNow();
  const [query, setQuery] = useState('');
  const [state, setState] = useState('');
  const [mode, setMode] = useState('');
  const apps = data?.apps ?? [];
  const states = [...new Set(apps.map((a) => a.state))].sort();
  const shown = apps.filter(
    (a) => appMatches(a, query) && (state === '' || a.state === state) && (mode === '' || a.mode === mode),
  );
  return (
    <>
      <h1 tabIndex={-1}>Apps</h1>
      <Problem error={error} />
      <form class="filters" role="search" aria-label="Filter apps" onSubmit={(e) => e.preventDefault()}>
        <SearchField value={query} placeholder="name, repository, commit, author" onChange={setQuery} />
        <label>
          State
          <select value={state} onChange={(e) => setState(e.currentTarget.value)}>
            <option value="">all</option>
            {states.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Mode
          <select value={mode} onChange={(e) => setMode(e.currentTarget.value)}>
            <option value="">all</option>
            <option value="apply">apply</option>
            <option value="report">report</option>
          </select>
        </label>
      </form>
      <p class="count" aria-live="polite">
        {data ? `${shown.length} of ${apps.length} apps` : 'Loading…'}
      </p>
      <table class="apps cards">
        <caption class="sr-only">Apps with their sync state, health, tracked ref and commits</caption>
        <Head
          columns={[
            'App',
            'State',
            'Health',
            'Ref',
            'Seen commit',
            'Applied commit',
            'Next poll',
            'Last error',
          ]}
        />
        <tbody>
          {shown.map((a) => (
            <tr key={a.name} class={a.lastError ? 'has-error' : ''}>
              <th scope="row" data-label="App">
                <a href={appHref(a.name)}>{a.name}</a>
                <span class="sub">
                  {a.mode} mode · {a.source}
                  {a.path !== '.' ? ` · ${a.path}` : ''}
                </span>
              </th>
              <td data-label="State">
                <Badge word={a.state} />
                {a.driftedObjects > 0 && <span class="sub">{a.driftedObjects} differ from Git</span>}
              </td>
              <td data-label="Health">
                <Badge word={a.health} />
              </td>
              <td data-label="Ref">
                <code>{a.ref ?? 'HEAD'}</code>
              </td>
              <td data-label="Seen commit">
                <Commit c={a.seen} now={now} />
              </td>
              <td data-label="Applied commit">
                <Commit
                  c={a.applied}
                  now={now}
                  empty={a.mode === 'report' ? 'report mode: never applies' : 'none yet'}
                />
              </td>
              <td data-label="Next poll">
                <Time iso={a.nextPollAt} now={now} />
                <span class="sub">
                  last <Time iso={a.lastReconcileAt} now={now} />
                </span>
              </td>
              <td data-label="Last error" class="error-cell">
                {a.lastError ?? <span class="muted">none</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && shown.length === 0 && <p class="muted">No app matches.</p>}
    </>
  );
}
