/**
 * Errors of the sync stage: one typed error per object that could not be planned, dry-run or
 * applied (which object, where in Git, why), the commit-level errors that gather them, and
 * the prune guard. Messages name the file:line and commit; hints say what to do next.
 */
import type { ApiStatusError } from '../cluster/errors.ts';
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
export class ImmutableFieldError extends ObjectError {
  /** The immutable fields the server named, as `.spec.selector`. */
  readonly fields: string[];
  constructor(
    id: ObjectId,
    source: SourceLocation | undefined,
    detail: string,
    fields: string[],
    options?: { cause?: unknown },
  ) {
    super(id, source, detail, options);
    this.fields = fields;
  }
}

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

/**
 * What the cluster says about an RBAC refusal, from the API server's words: `User "u" cannot
 * patch resource "configmaps" in API group "" in the namespace "shop"` (or `at the cluster scope`).
 */
export function forbiddenRequest(
  detail: string,
): { user: string; verb: string; resource: string; group: string; namespace: string } | undefined {
  const m =
    /(User|ServiceAccount|Group) "([^"]*)" cannot (\w+) resource "([^"]*)" in API group "([^"]*)"(?: in the namespace "([^"]*)")?/i.exec(
      detail,
    );
  if (!m) return undefined;
  return { user: m[2]!, verb: m[3]!, resource: m[4]!, group: m[5]!, namespace: m[6] ?? '' };
}

/** Why the API server's refusal is the cluster's state rather than the manifest's fault, if it is. */
export function clusterCondition(status: number, reason: string, detail: string): string | undefined {
  // `namespaces "shop" not found`; `... in namespace shop because it is being terminated`.
  const ns = /namespaces? "?([-a-z0-9.]+)"? (?:not found|because)/i.exec(detail)?.[1];
  if (/being terminated/i.test(detail) || reason === 'NamespaceTerminating')
    return `its namespace${ns ? ` ${ns}` : ''} is being deleted: wait until it is gone and create it again (or add it to the repository), or see what holds it with kubectl get namespace${ns ? ` ${ns}` : ''} -o yaml (finalizers, conditions); the next reconcile applies it then`;
  if (status === 404 && /namespaces? "[^"]*" not found/i.test(detail))
    return `its namespace does not exist: create it (kubectl create namespace ${ns ?? '<name>'}) or add its Namespace to the repository`;
  if (status === 403) {
    const f = forbiddenRequest(detail);
    if (!f) return "the cluster's RBAC forbids it: grant the agent's identity this permission";
    const resource = f.group ? `${f.resource}.${f.group}` : f.resource;
    const where = f.namespace
      ? `in namespace ${f.namespace} (a Role and a RoleBinding there, or a ClusterRoleBinding)`
      : 'at the cluster scope (a ClusterRole and a ClusterRoleBinding)';
    return `the cluster's RBAC forbids it: grant ${f.user}, the identity Tether runs as, the verb ${f.verb} on ${resource} ${where}; Tether needs get, list, watch and patch (delete too, to prune)`;
  }
  return undefined;
}

/** The API server's refusal of one object: a condition of the cluster, or the object's own fault. */
export function refusalOf(
  id: ObjectId,
  source: SourceLocation | undefined,
  e: ApiStatusError,
): ClusterConditionError | ObjectRejectedError {
  const condition = clusterCondition(e.status, e.reason, e.detail);
  return condition
    ? new ClusterConditionError(id, source, `${e.detail} (${condition})`, { cause: e })
    : new ObjectRejectedError(id, source, e.detail, { cause: e });
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
    const cluster = errors.some((e) => e instanceof ClusterConditionError)
      ? ' (the refusals that name a condition of the cluster need the cluster fixed, not the commit)'
      : '';
    super(`commit ${shortSha(commit)} was rejected by the API server:\n${listed(sorted)}`, {
      hint: written
        ? `fix the manifests and push a new commit${cluster}; only this commit's Namespaces and CRDs were applied, nothing else was written`
        : `fix the manifests and push a new commit${cluster}; nothing was written`,
    });
    this.errors = sorted;
  }
}

/** One reason a commit cannot be planned: `unserved` when the cluster lacks the kind (a CRD to install). */
export interface PlanProblem {
  message: string;
  unserved?: boolean;
}

/** The commit cannot be planned (unknown kinds, wrong scope, bad annotations): nothing was written. */
export class PlanErrors extends TetherError {
  readonly errors: string[];
  static of(problems: PlanProblem[], commit: string): PlanErrors {
    const messages = problems.map((p) => p.message);
    return problems.every((p) => p.unserved)
      ? new UnservedKindsError(messages, commit)
      : new PlanErrors(messages, commit);
  }
  constructor(errors: string[], commit: string, hint?: string) {
    super(`commit ${shortSha(commit)} cannot be applied:\n${listed(errors)}`, {
      hint:
        hint ??
        'fix the manifests (for a kind the cluster does not serve, install its CRD in the cluster or add the CRD to the repository) and push a new commit; nothing was written',
    });
    this.errors = errors;
  }
}

/** Every object the plan refused is of a kind the cluster does not serve: a CRD is missing from the cluster. */
export class UnservedKindsError extends PlanErrors {
  constructor(errors: string[], commit: string) {
    super(
      errors,
      commit,
      'the cluster does not serve these kinds: install their CustomResourceDefinitions in the cluster first, or add the CRDs to the repository (if apiVersion or kind has a typo, fix it and push a new commit); nothing was written',
    );
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

/**
 * A sync wave whose objects did not become healthy (one Failed, or not Current within the
 * wave timeout): the later waves are not applied.
 */
export class WaveNotHealthyError extends TetherError {
  readonly wave: number;
  constructor(wave: number, detail: string, timedOut: boolean) {
    super(
      `sync wave ${wave} is not healthy${timedOut ? ' in time' : ''}: ${detail}; later waves were not applied`,
      {
        hint: timedOut
          ? 'fix the objects named, or give the wave more time (sync.waveTimeout in the config, --wave-timeout)'
          : 'fix the objects named and push a new commit',
      },
    );
    this.wave = wave;
  }
}

/** A pre-sync hook failed (or timed out): nothing else of the commit was applied; or a sync hook: later waves were not. */
export class HookFailedError extends TetherError {
  constructor(
    phase: string,
    hook: string,
    reason: string,
    stopped = 'the sync stopped before applying the commit',
  ) {
    super(`${phase} hook ${hook} failed: ${reason}; ${stopped}`, {
      hint: "inspect the hook (kubectl describe, its pods' logs), fix it or what it checks, and push a new commit",
    });
  }
}
