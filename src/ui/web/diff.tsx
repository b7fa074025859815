/** A commit's diff against the live cluster, as `tether diff` computes it (server-side dry-run, nothing written). */
import type { DiffView } from '../shared/api.ts';
import { useApi } from './api.ts';
import { diffLineClass, shortSha } from './format.ts';
import { appHref, Badge, Commit, FieldsTable, Problem, useNow } from './parts.tsx';

export function DiffPage({ name, sha }: { name: string; sha: string }) {
  const { data, error, loading, reload } = useApi<DiffView>(
    `/api/apps/${encodeURIComponent(name)}/diff?commit=${encodeURIComponent(sha)}`,
    false,
  );
  const now = useNow();
  const changed = (data?.objects ?? []).filter((o) => o.action !== 'unchanged');
  const unchanged = (data?.objects ?? []).filter((o) => o.action === 'unchanged');
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href="#/">Apps</a> <span aria-hidden="true">/</span> <a href={appHref(name)}>{name}</a>{' '}
        <span aria-hidden="true">/</span> <span aria-current="page">diff {shortSha(sha)}</span>
      </nav>
      <h1 tabIndex={-1}>
        Diff of <code>{shortSha(sha)}</code> against the live cluster
      </h1>
      <p>
        What applying this commit to app <a href={appHref(name)}>{name}</a> would change, computed as{' '}
        <code>tether diff</code> computes it: every object server-side dry-run, nothing written.
      </p>
      {data && (
        <p>
          <Commit c={data.commit} now={now} />
        </p>
      )}
      <p class="actions">
        <button type="button" onClick={reload} disabled={loading}>
          Compute again
        </button>
      </p>
      <p role="status" class="count">
        {loading
          ? 'Computing (server-side dry-run)…'
          : data
            ? `${data.changed} object${data.changed === 1 ? '' : 's'} would change, ${unchanged.length} unchanged.`
            : ''}
      </p>
      <Problem error={error} />
      {changed.map((o) => {
        const title = `${o.apiVersion} ${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
        return (
          <section key={title} class="diff-object" aria-label={`${o.action} ${title}`}>
            <h2>
              <Badge word={o.action} /> <code>{title}</code>
            </h2>
            {o.message && <p class="message">{o.message}</p>}
            {o.fields.length > 0 && (
              <FieldsTable
                fields={o.fields}
                caption={`Fields of ${o.kind} ${o.name} that change`}
                ownersHeading="Owned today by"
                now={now}
              />
            )}
            {o.diff && (
              <pre class="diff" tabIndex={0} aria-label={`YAML diff of ${title}, live to Git`}>
                {o.diff
                  .replace(/\n$/, '')
                  .split('\n')
                  .map((line, i) => (
                    <span key={i} class={diffLineClass(line)}>
                      {line}
                      {'\n'}
                    </span>
                  ))}
              </pre>
            )}
          </section>
        );
      })}
      {unchanged.length > 0 && (
        <details>
          <summary>{unchanged.length} unchanged objects</summary>
          <ul>
            {unchanged.map((o) => (
              <li key={`${o.kind}/${o.namespace ?? ''}/${o.name}`}>
                <code>
                  {o.kind} {o.namespace ? `${o.namespace}/` : ''}
                  {o.name}
                </code>
                {o.message && <span class="muted"> ({o.message})</span>}
              </li>
            ))}
          </ul>
        </details>
      )}
    </>
  );
}
