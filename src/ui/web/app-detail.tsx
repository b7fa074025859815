/**
 * One app: its facts, then its objects grouped by wave and kind, each with its sync state and
 * health; a drifted or conflicting object lists every field with Git's value, the live value
 * and who changed it. Orphaned and missing objects are listed like the others.
 */
import { useState } from 'preact/hooks';
import type { AppDetail, ObjectView } from '../shared/api.ts';
import { useApi } from './api.ts';
import { differs, groupObjects, shortSha } from './format.ts';
import {
  auditHref,
  Badge,
  Commit,
  diffHref,
  Fact,
  FieldsTable,
  Head,
  Problem,
  SearchField,
  Time,
  useNow,
} from './parts.tsx';

function counts(objects: readonly ObjectView[]): string {
  const n = new Map<string, number>();
  for (const o of objects) n.set(o.status, (n.get(o.status) ?? 0) + 1);
  return [...n].map(([s, c]) => `${c} ${s}`).join(', ') || 'no objects';
}

const objectName = (o: ObjectView) => (o.namespace ? `${o.namespace}/${o.name}` : o.name);

function ObjectRows({ o, now }: { o: ObjectView; now: number }) {
  const detail = o.fields.length > 0 || o.message !== undefined;
  return (
    <>
      <tr class={differs(o.status) ? 'differs' : ''}>
        <th scope="row" data-label="Name">
          {o.name}
        </th>
        <td data-label="Namespace">{o.namespace ?? <span class="muted">cluster</span>}</td>
        <td data-label="Sync">
          <Badge word={o.status} label="sync" />
        </td>
        <td data-label="Health">
          <Badge word={o.health?.status} label="health" />
          {o.health && o.health.status !== 'Current' && <span class="sub">{o.health.message}</span>}
        </td>
        <td data-label="Source">
          {o.file ? (
            <code>
              {o.file}
              {o.line ? `:${o.line}` : ''}
            </code>
          ) : (
            <span class="muted">not in Git</span>
          )}
        </td>
      </tr>
      {detail && (
        <tr class="detail">
          <td colSpan={5}>
            {o.message && <p class="message">{o.message}</p>}
            {o.fields.length > 0 && (
              <FieldsTable
                fields={o.fields}
                now={now}
                caption={`${o.status === 'conflict' ? 'Conflicting' : 'Drifted'} fields of ${o.kind} ${objectName(o)}`}
              />
            )}
          </td>
        </tr>
      )}
    </>
  );
}

export function AppPage({ name }: { name: string }) {
  const { data, error } = useApi<AppDetail>(`/api/apps/${encodeURIComponent(name)}`);
  const now = useNow();
  const [onlyDiffering, setOnlyDiffering] = useState(false);
  const [query, setQuery] = useState('');
  const a = data?.app;
  const all = data?.report?.objects ?? [];
  const q = query.trim().toLowerCase();
  const shown = all.filter(
    (o) =>
      (!onlyDiffering || differs(o.status)) &&
      (q === '' || `${o.kind} ${o.namespace ?? ''}/${o.name}`.toLowerCase().includes(q)),
  );
  const groups = groupObjects(shown);
  const waves = new Set(all.map((o) => o.wave)).size > 1;
  const Kind = waves ? 'h4' : 'h3';
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href="#/">Apps</a> <span aria-hidden="true">/</span> <span aria-current="page">{name}</span>
      </nav>
      <h1 tabIndex={-1}>App {name}</h1>
      <Problem error={error} />
      {a && (
        <dl class="facts">
          <Fact label="State">
            <Badge word={a.state} />
          </Fact>
          <Fact label="Health">
            <Badge word={a.health} />
          </Fact>
          <Fact label="Mode">
            {a.mode === 'report' ? 'report (drift is reported, never written)' : 'apply (drift is healed)'}
          </Fact>
          <Fact label="Source">
            <code>{a.source}</code> ref <code>{a.ref ?? 'HEAD'}</code> path <code>{a.path}</code>
          </Fact>
          <Fact label="Seen commit">
            <Commit c={a.seen} now={now} />
          </Fact>
          <Fact label="Applied commit">
            <Commit
              c={a.applied}
              now={now}
              empty={a.mode === 'report' ? 'never (report mode)' : 'none yet'}
            />
          </Fact>
          <Fact label="Last reconcile">
            <Time iso={a.lastReconcileAt} now={now} /> · next poll <Time iso={a.nextPollAt} now={now} />
          </Fact>
          <div>
            <dt>Last error</dt>
            <dd class="error-cell">{a.lastError ?? <span class="muted">none</span>}</dd>
          </div>
        </dl>
      )}
      {a && (
        <p class="actions">
          {a.seen && (
            <a href={diffHref(a.name, a.seen.sha)}>Diff {shortSha(a.seen.sha)} against the live cluster</a>
          )}
          <a href={auditHref(a.name)}>Audit trail of {a.name}</a>
        </p>
      )}
      <h2>Objects</h2>
      {data && !data.report && <p class="muted">Not reconciled yet.</p>}
      {data?.report && (
        <>
          <p>
            Commit <code title={data.report.commit}>{shortSha(data.report.commit)}</code>: {counts(all)}.
          </p>
          <form
            class="filters"
            role="search"
            aria-label="Filter objects"
            onSubmit={(e) => e.preventDefault()}
          >
            <SearchField value={query} placeholder="kind, namespace, name" onChange={setQuery} />
            <label class="check">
              <input
                type="checkbox"
                checked={onlyDiffering}
                onChange={(e) => setOnlyDiffering(e.currentTarget.checked)}
              />
              Only objects that differ from Git
            </label>
          </form>
          {groups.map((w) => (
            <section
              key={String(w.wave)}
              aria-label={waves ? (w.wave === null ? 'Not in Git' : `Wave ${w.wave}`) : 'Objects'}
            >
              {waves && <h3>{w.wave === null ? 'Not in Git' : `Wave ${w.wave}`}</h3>}
              {w.kinds.map((k) => (
                <section key={k.kind} class="kind">
                  <Kind>
                    {k.kind} <span class="muted">({k.objects.length})</span>
                  </Kind>
                  <table class="objects cards">
                    <caption class="sr-only">
                      {k.kind} objects{waves && w.wave !== null ? ` of wave ${w.wave}` : ''}
                    </caption>
                    <Head columns={['Name', 'Namespace', 'Sync', 'Health', 'Source']} />
                    <tbody>
                      {k.objects.map((o) => (
                        <ObjectRows key={`${o.namespace ?? ''}/${o.name}`} o={o} now={now} />
                      ))}
                    </tbody>
                  </table>
                </section>
              ))}
            </section>
          ))}
          {shown.length === 0 && <p class="muted">No object matches.</p>}
        </>
      )}
    </>
  );
}
