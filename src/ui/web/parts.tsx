/** Small pieces every view uses: badges, times, commits, field tables, the page's route. */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { CommitView } from '../shared/api.ts';
import { authorName, relative, shortSha, subject, tone, value } from './format.ts';

export type Route =
  | { view: 'apps' }
  | { view: 'app'; name: string }
  | { view: 'diff'; name: string; sha: string }
  | { view: 'audit'; app: string | undefined; group: string | undefined };

/** `#/`, `#/apps/NAME`, `#/apps/NAME/diff/SHA`, `#/audit?app=NAME&group=ID`. */
export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  if (parts[0] === 'apps' && parts[1] && parts[2] === 'diff' && parts[3])
    return { view: 'diff', name: parts[1], sha: parts[3] };
  if (parts[0] === 'apps' && parts[1]) return { view: 'app', name: parts[1] };
  if (parts[0] === 'audit')
    return { view: 'audit', app: params.get('app') ?? undefined, group: params.get('group') ?? undefined };
  return { view: 'apps' };
}

export const appHref = (name: string) => `#/apps/${encodeURIComponent(name)}`;
export const diffHref = (name: string, sha: string) => `#/apps/${encodeURIComponent(name)}/diff/${sha}`;
export function auditHref(app?: string, group?: string): string {
  const q = new URLSearchParams();
  if (app) q.set('app', app);
  if (group) q.set('group', group);
  const s = q.toString();
  return `#/audit${s ? `?${s}` : ''}`;
}

export function useRoute(): Route {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return parseRoute(hash);
}

/** The time of this render; the caller renders again every few seconds, so relative times stay true. */
export function useNow(everyMs = 5000): number {
  const [, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return Date.now();
}

export function Badge({ word, label }: { word: string | null | undefined; label?: string }) {
  if (!word) return <span class="muted">–</span>;
  return (
    <span class={`badge ${tone(word)}`} {...(label ? { 'aria-label': `${label}: ${word}` } : {})}>
      {word}
    </span>
  );
}

export function Time({ iso, now }: { iso: string | null | undefined; now: number }) {
  if (!iso) return <span class="muted">–</span>;
  return (
    <time dateTime={iso} title={new Date(iso).toLocaleString()}>
      {relative(iso, now)}
    </time>
  );
}

export function Commit({
  c,
  now,
  empty = 'none yet',
}: {
  c: CommitView | null;
  now: number;
  empty?: string;
}) {
  if (!c) return <span class="muted">{empty}</span>;
  return (
    <span class="commit">
      <code title={c.sha}>{shortSha(c.sha)}</code>{' '}
      <span class="subject">{subject(c.message) || '(message unknown)'}</span>
      {(c.author || c.time) && (
        <span class="meta">
          {authorName(c.author)}
          {c.author && c.time ? ' · ' : ''}
          {c.time && <Time iso={c.time} now={now} />}
        </span>
      )}
    </span>
  );
}

/** A field as drift, the audit log and diff show it (an owner's time may be unknown). */
interface ShownField {
  path: string;
  desired: unknown;
  live: unknown;
  owners: readonly { manager: string; operation: string; time?: string | null }[];
}

function Owners({ owners, now }: { owners: ShownField['owners']; now: number }) {
  if (owners.length === 0) return <span class="muted">no owner</span>;
  return (
    <ul class="owners">
      {owners.map((o) => (
        <li key={`${o.manager}/${o.operation}`}>
          <strong>{o.manager}</strong> <span class="muted">({o.operation}</span>
          {o.time ? (
            <span class="muted">
              , <Time iso={o.time} now={now} />)
            </span>
          ) : (
            <span class="muted">)</span>
          )}
        </li>
      ))}
    </ul>
  );
}

/** Drifted, conflicting or changed fields: Git's value, the live one, who changed it. */
export function FieldsTable({
  fields,
  caption,
  now,
  ownersHeading = 'Changed by',
}: {
  fields: readonly ShownField[];
  caption: string;
  now: number;
  ownersHeading?: string;
}) {
  return (
    <div class="scroll">
      <table class="fields">
        <caption>{caption}</caption>
        <Head columns={['Field', 'In Git', 'Live', ownersHeading]} />
        <tbody>
          {fields.map((f) => (
            <tr key={f.path}>
              <th scope="row">
                <code>{f.path}</code>
              </th>
              <td>
                <code>{value(f.desired)}</code>
              </td>
              <td>
                <code>{value(f.live)}</code>
              </td>
              <td>
                <Owners owners={f.owners} now={now} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Problem({ error }: { error: string | undefined }) {
  if (!error) return null;
  return (
    <p class="problem" role="alert">
      {error}
    </p>
  );
}

/** The labelled search box of a filter form. */
export function SearchField({
  value,
  placeholder,
  onChange,
}: {
  value: string;
  placeholder: string;
  onChange: (value: string) => void;
}) {
  return (
    <label>
      Search
      <input
        type="search"
        value={value}
        placeholder={placeholder}
        onInput={(e) => onChange(e.currentTarget.value)}
      />
    </label>
  );
}

/** One labelled fact of a description list. */
export function Fact({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** A table's header row: one column header per name. */
export function Head({ columns }: { columns: readonly string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c) => (
          <th scope="col" key={c}>
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}
