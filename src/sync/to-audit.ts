/**
 * From reconcile results to an audit record: the notable objects with their field changes
 * and owners, and one result word for the whole reconcile. Used by `tether sync`, `tether
 * drift` and the agent alike.
 */
import type { AuditInput, AuditMode, AuditTrigger } from '../audit/index.ts';
import type { CommitInfo } from '../source/index.ts';
import { apiVersionOf, auditActionOf, reconcileResult, type ObjectResult } from './outcome.ts';

export function auditCommit(c: CommitInfo): NonNullable<AuditInput['commit']> {
  return {
    sha: c.sha,
    author: `${c.author.name} <${c.author.email}>`,
    message: c.message.trim(),
    time: c.author.time,
  };
}

/**
 * `commitIsNew` says whether this commit was applied before: a configured object of an
 * already-applied commit is recorded as healed.
 */
export function auditInput(opts: {
  app: string;
  commit: CommitInfo;
  trigger: AuditTrigger;
  mode: AuditMode;
  results: readonly ObjectResult[];
  commitIsNew: boolean;
}): AuditInput {
  const objects = opts.results.flatMap((r) => {
    let action = auditActionOf(r.status);
    if (!action) return [];
    if (action === 'configured' && !opts.commitIsNew) action = 'healed';
    const fields = r.status === 'conflict' ? r.conflicts : r.fields;
    return [
      {
        apiVersion: apiVersionOf(r.id),
        kind: r.id.kind,
        namespace: r.id.namespace,
        name: r.id.name,
        action,
        ...(fields.length ? { fields } : {}),
        ...(r.message && (action === 'error' || action === 'conflict') ? { error: r.message } : {}),
      },
    ];
  });
  const reverts = revertOf(opts.commit.message);
  // Sync hooks are objects of the record (created, or error) and, with their outcome, here.
  const hooks = opts.results.flatMap((r) =>
    r.hook
      ? [
          {
            phase: r.hook.phase,
            kind: r.id.kind,
            namespace: r.id.namespace,
            name: r.id.name,
            outcome: r.hook.outcome,
            deleted: r.hook.deleted,
            ...(r.message ? { message: r.message } : {}),
          },
        ]
      : [],
  );
  return {
    app: opts.app,
    commit: auditCommit(opts.commit),
    trigger: opts.trigger,
    mode: opts.mode,
    result: reconcileResult(opts.mode, opts.results, opts.commitIsNew),
    objects,
    ...(reverts ? { revertOf: reverts } : {}),
    ...(hooks.length ? { details: { hooks } } : {}),
  };
}

/** `This reverts commit <sha>.` in a commit message, as git revert and tether revert write it. */
export function revertOf(message: string): string | undefined {
  return /This reverts commit ([0-9a-f]{40})/.exec(message)?.[1];
}
