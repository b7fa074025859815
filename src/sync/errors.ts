/**
 * Errors of the sync stage: one typed error per object that could not be planned, dry-run or
 * applied (which object, where in Git, why), the commit-level errors that gather them, and
 * the prune guard. Messages name the file:line and commit; hints say what to do next.
 */
import { TetherError } from '../errors.ts';
import { formatId, type ObjectId, type SourceLocation } from '../manifests/index.ts';
import { shortSha } from '../util/sha.ts';
import type { ObjectResult } from './outcome.ts';
import { formatLocation } from '../manifests/index.ts';
import { escapeName } from '../util/escape.ts';

/** Why one object failed: the API server refused it, or the cluster cannot take it. */
export class ObjectError extends TetherError {
  readonly id: ObjectId;
  readonly source: SourceLocation | undefined;
  /** What the server (or Tether) said, without the object's location. */
  readonly detail: string;

  constructor(
    id: ObjectId,
    source: SourceLocation | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    const where = source ? `${formatLocation(source)}: ` : '';
    super(`${where}${formatId(id)}: ${escapeName(detail)}`, options);
    this.id = id;
    this.source = source;
    this.detail = detail;
  }
}

/** The object's kind is not served by the cluster (and no CRD of the commit defines it). */
export class UnservedKindError extends ObjectError {}

/** The dry-run or the apply of an object was refused by the API server. */
export class ObjectRejectedError extends ObjectError {}

/** An immutable field changed and recreating the object is not allowed. */
export class ImmutableFieldError extends ObjectError {}

/** The object exists and another Tether app applied it: this app does not take it silently. */
export class ForeignObjectError extends ObjectError {
  readonly owner: string;
  constructor(id: ObjectId, source: SourceLocation | undefined, owner: string, app: string) {
    super(
      id,
      source,
      `belongs to app ${owner}, not ${app}: refused. Remove it from one of the two apps (or exclude its file with --exclude / source.exclude), or let ${app} take it over with the annotation tether.dev/adopt: "true" or --adopt`,
    );
    this.owner = owner;
  }
}

/**
 * The cluster, not the commit, stops this object: its namespace is being deleted or does not
 * exist, or the identity may not write it. Fixing the manifests would not help.
 */
export class ClusterConditionError extends ObjectError {}

/** Why the API server's refusal is the cluster's state rather than the manifest's fault, if it is. */
export function clusterCondition(status: number, reason: string, detail: string): string | undefined {
  if (/being terminated/i.test(detail) || reason === 'NamespaceTerminating')
    return 'its namespace is being deleted: the next reconcile applies it once the namespace is gone and recreated (or was not deleted after all)';
  if (status === 404 && /namespaces? "[^"]*" not found/i.test(detail))
    return 'its namespace does not exist: create it (or add it to the commit)';
  if (status === 403) return "the cluster's RBAC forbids it: grant the agent's identity this permission";
  return undefined;
}

/** Objects of a commit cannot be applied because of the cluster's state: nothing was written. */
export class ClusterNotReadyError extends TetherError {
  readonly errors: ObjectError[];
  constructor(errors: ObjectError[], commit: string) {
    super(`commit ${shortSha(commit)} cannot be applied to the cluster as it is now:\n${listed(errors)}`, {
      hint: 'these are conditions of the cluster, not errors in the commit; nothing was written, and the next reconcile tries again',
    });
    this.errors = errors;
  }
}

function listed(errors: readonly ObjectError[] | readonly string[]): string {
  return errors.map((e) => `  ${typeof e === 'string' ? e : e.message}`).join('\n');
}

/** Objects of a commit failed their dry-run: nothing more of the commit is written. */
export class CommitRejectedError extends TetherError {
  readonly errors: ObjectError[];
  /** Refusals among them that are the cluster's state rather than the commit's (see clusterCondition). */
  static of(errors: ObjectError[], commit: string, written: boolean): TetherError {
    const cluster = errors.filter((e) => e instanceof ClusterConditionError);
    return cluster.length === errors.length
      ? new ClusterNotReadyError(errors, commit)
      : new CommitRejectedError(errors, commit, written);
  }
  constructor(errors: ObjectError[], commit: string, written: boolean) {
    const sorted = [...errors].sort((a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
    super(`commit ${shortSha(commit)} was rejected by the API server:\n${listed(sorted)}`, {
      hint: written
        ? "fix the manifests and push a new commit; only this commit's Namespaces and CRDs were applied, nothing else was written"
        : 'fix the manifests and push a new commit; nothing was written',
    });
    this.errors = sorted;
  }
}

/** The commit cannot be planned (unknown kinds, wrong scope, bad annotations): nothing was written. */
export class PlanErrors extends TetherError {
  readonly errors: string[];
  constructor(errors: string[], commit: string) {
    super(`commit ${shortSha(commit)} cannot be applied:\n${listed(errors)}`, {
      hint: 'fix the manifests (or install the missing CRDs) and push a new commit; nothing was written',
    });
    this.errors = errors;
  }
}

/**
 * The reconcile stopped after it had begun writing: `results` are the objects written (or
 * refused) before it stopped, so that they are recorded; `cause` is why it stopped.
 */
export class ApplyInterruptedError extends TetherError {
  readonly results: readonly ObjectResult[];
  constructor(results: readonly ObjectResult[], cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(why, { cause, ...(cause instanceof TetherError && cause.hint ? { hint: cause.hint } : {}) });
    this.results = results;
  }
}

/** Prune would delete more than half of the app at once. */
export class PruneGuardError extends TetherError {}
