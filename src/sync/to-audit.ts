/**
 * From reconcile results to an audit record: the notable objects with their field changes
 * and owners, and one result word for the whole reconcile. Used by `tether sync`, `tether
 * drift` and the agent alike.
 */
import type { AuditAction, AuditInput, AuditMode, AuditResult, AuditTrigger } from '../audit/index.ts';
import type { CommitInfo } from '../source/index.ts';
import { apiVersionOf, type ObjectResult } from './result.ts';

const ACTION: Record<ObjectResult['status'], AuditAction | undefined> = {
  created: 'created',
  configured: 'configured',
  unchanged: undefined,
  pruned: 'pruned',
  conflict: 'conflict',
  skipped: undefined,
  failed: 'error',
  'in-sync': undefined,
  drifted: 'drifted',
  missing: 'missing',
  orphaned: 'orphaned',
  error: 'error',
};

export function auditCommit(c: CommitInfo): NonNullable<AuditInput['commit']> {
  return {
    sha: c.sha,
    author: `${c.author.name} <${c.author.email}>`,
    message: c.message.trim(),
    time: c.author.time,
  };
}

/**
 * `healed` marks a configured object of an already-applied commit whose drift was reverted.
 * `commitIsNew` says whether this commit was applied before.
 */
export function reconcileResult(mode: AuditMode, results: ObjectResult[], commitIsNew: boolean): AuditResult {
  const has = (...s: ObjectResult['status'][]) => results.some((r) => s.includes(r.status));
  if (has('failed', 'error')) return 'error';
  if (mode === 'report')
    return has('conflict') ? 'conflict' : has('drifted', 'missing', 'orphaned') ? 'drift-found' : 'in-sync';
  if (has('created', 'configured')) return commitIsNew ? 'applied' : 'drift-healed';
  if (has('pruned')) return 'pruned';
  if (has('conflict')) return 'conflict';
  return commitIsNew ? 'applied' : 'in-sync';
}

export function auditInput(opts: {
  app: string;
  commit: CommitInfo;
  trigger: AuditTrigger;
  mode: AuditMode;
  results: ObjectResult[];
  commitIsNew: boolean;
  revertOf?: string;
}): AuditInput {
  const objects = opts.results.flatMap((r) => {
    let action = ACTION[r.status];
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
  return {
    app: opts.app,
    commit: auditCommit(opts.commit),
    trigger: opts.trigger,
    mode: opts.mode,
    result: reconcileResult(opts.mode, opts.results, opts.commitIsNew),
    objects,
    ...(opts.revertOf ? { revertOf: opts.revertOf } : {}),
  };
}

/** `This reverts commit <sha>.` in a commit message, as git revert and tether revert write it. */
export function revertOf(message: string): string | undefined {
  return /This reverts commit ([0-9a-f]{40})/.exec(message)?.[1];
}
