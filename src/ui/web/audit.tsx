/**
 * The audit trail per commit: what changed (field changes per object), when and by which
 * trigger; a revert links to the commit it reverts (and back); above it, whether the hash
 * chain verifies and whether the heads anchored in the cluster match it.
 */
import { useEffect } from 'preact/hooks';
import type { AppsView, AuditObjectView, AuditView, CommitGroup } from '../shared/api.ts';
import { useApi } from './api.ts';
import { authorName, shortSha, subject } from './format.ts';
import { auditHref, Badge, diffHref, FieldsTable, Problem, Time, useNow } from './parts.tsx';

/** A DOM id for a group id (`app@sha`). */
export const groupDomId = (id: string) => `commit-${id.replace(/[^A-Za-z0-9_-]/g, '-')}`;

const objectTitle = (o: AuditObjectView) =>
  `${o.apiVersion} ${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;

function Objects({ objects, now }: { objects: readonly AuditObjectView[]; now: number }) {
  if (objects.length === 0) return null;
  return (
    <ul class="audit-objects">
      {objects.map((o) => (
        <li key={objectTitle(o)}>
          <Badge word={o.action} /> <code>{objectTitle(o)}</code>
          {o.error && <p class="message">{o.error}</p>}
          {o.fields && o.fields.length > 0 && (
            <FieldsTable
              fields={o.fields}
              caption={`Fields of ${o.kind} ${o.name}`}
              ownersHeading="Live value owned by"
              now={now}
            />
          )}
        </li>
      ))}
    </ul>
  );
}

function Group({
  g,
  byId,
  filter,
  apps,
  focused,
  now,
}: {
  g: CommitGroup;
  byId: ReadonlyMap<string, CommitGroup>;
  filter: string | undefined;
  apps: ReadonlySet<string>;
  focused: boolean;
  now: number;
}) {
  const headingId = `${groupDomId(g.id)}-h`;
  const reverted = g.revertOf ? byId.get(`${g.app}@${g.revertOf}`) : undefined;
  return (
    <article
      id={groupDomId(g.id)}
      tabIndex={-1}
      aria-labelledby={headingId}
      class={`group${focused ? ' focused' : ''}`}
    >
      <header>
        <h2 id={headingId}>
          <span class="app">{g.app}</span>{' '}
          {g.commit ? (
            <>
              <code title={g.commit.sha}>{shortSha(g.commit.sha)}</code> {subject(g.commit.message)}
            </>
          ) : (
            'no commit (the source could not be read)'
          )}
        </h2>
        {g.commit && (
          <p class="meta">
            {authorName(g.commit.author)} · committed <Time iso={g.commit.time} now={now} />
            {apps.has(g.app) && (
              <>
                {' · '}
                <a href={diffHref(g.app, g.commit.sha)}>diff against the live cluster</a>
              </>
            )}
          </p>
        )}
        {g.revertOf && (
          <p class="revert">
            Reverts{' '}
            {reverted?.commit ? (
              <a href={auditHref(filter, reverted.id)} class="revert-link">
                <code>{shortSha(reverted.commit.sha)}</code> {subject(reverted.commit.message)}
              </a>
            ) : (
              <code>{shortSha(g.revertOf)}</code>
            )}
          </p>
        )}
        {g.revertedBy.map((id) => {
          const by = byId.get(id);
          return (
            by?.commit && (
              <p class="revert" key={id}>
                Reverted by{' '}
                <a href={auditHref(filter, id)}>
                  <code>{shortSha(by.commit.sha)}</code> {subject(by.commit.message)}
                </a>
              </p>
            )
          );
        })}
      </header>
      <ol class="records" reversed>
        {[...g.records].reverse().map((r) => (
          <li key={r.seq}>
            <p>
              <Badge word={r.result} /> <Time iso={r.time} now={now} /> · {r.trigger} · {r.mode} mode · seq{' '}
              {r.seq}
              {r.healthSeconds !== undefined && ` · healthy after ${r.healthSeconds} s`}
            </p>
            {r.error && <p class="message">{r.error}</p>}
            <Objects objects={r.objects} now={now} />
          </li>
        ))}
      </ol>
    </article>
  );
}

export function AuditPage({ app, group }: { app: string | undefined; group: string | undefined }) {
  const { data, error } = useApi<AuditView>(`/api/audit${app ? `?app=${encodeURIComponent(app)}` : ''}`);
  const apps = useApi<AppsView>('/api/apps');
  const now = useNow();
  const names = new Set((apps.data?.apps ?? []).map((a) => a.name));
  const byId = new Map((data?.groups ?? []).map((g) => [g.id, g]));
  const ready = data !== undefined;
  useEffect(() => {
    if (!group || !ready) return;
    const el = document.getElementById(groupDomId(group));
    el?.focus();
    el?.scrollIntoView({ block: 'start' });
  }, [group, ready]);
  const c = data?.chain;
  return (
    <>
      <h1 tabIndex={-1}>Audit trail{app ? ` of ${app}` : ''}</h1>
      <Problem error={error} />
      <form class="filters" aria-label="Filter the audit trail" onSubmit={(e) => e.preventDefault()}>
        <label>
          App
          <select
            value={app ?? ''}
            onChange={(e) => (location.hash = auditHref(e.currentTarget.value || undefined))}
          >
            <option value="">all apps</option>
            {[...names].sort().map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
      </form>
      {c && (
        <section class={`chain ${c.ok ? 'ok' : 'bad'}`} aria-labelledby="chain-h">
          <h2 id="chain-h">Hash chain</h2>
          {c.ok ? (
            <p>
              <span aria-hidden="true">✓ </span>Verified: {c.records} records, head seq {c.head.seq} (
              <code title={c.head.hash}>{c.head.hash.slice(0, 12)}</code>)
              {c.chain && (
                <>
                  , chain <code>{c.chain}</code>
                </>
              )}
              .
            </p>
          ) : (
            <p role="alert">
              <span aria-hidden="true">✗ </span>Broken at line {c.problem?.line}: {c.problem?.reason}.{' '}
              {c.records} good records before it.
            </p>
          )}
          {data.anchors.length === 0 ? (
            <p class="muted">
              No head anchored in the cluster yet (apply-mode apps anchor it on their inventory ConfigMap).
            </p>
          ) : (
            <ul class="anchors">
              {data.anchors.map((a) => (
                <li key={`${a.app}/${a.source}`} class={a.matches ? 'ok' : 'bad'}>
                  <span aria-hidden="true">{a.matches ? '✓ ' : '✗ '}</span>
                  Anchor of {a.app}: seq {a.seq} in ConfigMap <code>{a.source}</code>
                  {a.matches ? ', matches the log' : `: ${a.problem ?? 'does not match'}`}
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      {data && (
        <p class="count">
          {data.shown} record{data.shown === 1 ? '' : 's'} in {data.groups.length} commit
          {data.groups.length === 1 ? '' : 's'} (the log holds {data.total}).
        </p>
      )}
      {data?.groups.map((g) => (
        <Group key={g.id} g={g} byId={byId} filter={app} apps={names} focused={g.id === group} now={now} />
      ))}
    </>
  );
}
