/**
 * Sync hooks, pure: which objects of a commit are hooks, in which phase they run and when
 * they are deleted. Jobs and Pods annotated `tether.dev/hook`, or Argo CD's
 * `argocd.argoproj.io/hook` or Helm's `helm.sh/hook`, are not applied with the app: they are
 * created in their phase, waited for, and deleted by their delete policy (src/sync/run-hooks.ts).
 */
import {
  ARGO_HOOK_ANNOTATION,
  ARGO_HOOK_DELETE_POLICY_ANNOTATION,
  HELM_HOOK_ANNOTATION,
  HELM_HOOK_DELETE_POLICY_ANNOTATION,
  HOOK_ANNOTATION,
  HOOK_DELETE_POLICY_ANNOTATION,
  annotationOf,
} from '../contract.ts';

export type HookPhase = 'pre-sync' | 'sync' | 'post-sync' | 'sync-fail';
export type DeletePolicy = 'before-hook-creation' | 'hook-succeeded' | 'hook-failed';

export const HOOK_PHASES: readonly HookPhase[] = ['pre-sync', 'sync', 'post-sync', 'sync-fail'];

/** What an object's hook annotations say. */
export type HookSpec =
  | { kind: 'hook'; phase: HookPhase; deletePolicies: DeletePolicy[] }
  /** Not applied at all: Argo CD's `Skip`, Helm's test and delete hooks (with why). */
  | { kind: 'skip'; reason: string }
  /** The annotation is there but says nothing Tether understands. */
  | { kind: 'invalid'; message: string };

const TETHER_PHASES: Record<string, HookPhase> = {
  'pre-sync': 'pre-sync',
  sync: 'sync',
  'post-sync': 'post-sync',
  'sync-fail': 'sync-fail',
};
const ARGO_PHASES: Record<string, HookPhase | 'skip'> = {
  PreSync: 'pre-sync',
  Sync: 'sync',
  PostSync: 'post-sync',
  SyncFail: 'sync-fail',
  Skip: 'skip',
};
const HELM_PHASES: Record<string, HookPhase | 'not-run'> = {
  'pre-install': 'pre-sync',
  'pre-upgrade': 'pre-sync',
  'post-install': 'post-sync',
  'post-upgrade': 'post-sync',
  'pre-delete': 'not-run',
  'post-delete': 'not-run',
  'pre-rollback': 'not-run',
  'post-rollback': 'not-run',
  test: 'not-run',
  'test-success': 'not-run',
};
const POLICIES: Record<string, DeletePolicy> = {
  'before-hook-creation': 'before-hook-creation',
  'hook-succeeded': 'hook-succeeded',
  'hook-failed': 'hook-failed',
  BeforeHookCreation: 'before-hook-creation',
  HookSucceeded: 'hook-succeeded',
  HookFailed: 'hook-failed',
};

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** True when the object carries any hook annotation (Tether's, Argo CD's or Helm's). */
export function hasHookAnnotation(object: Record<string, unknown>): boolean {
  return [HOOK_ANNOTATION, ARGO_HOOK_ANNOTATION, HELM_HOOK_ANNOTATION].some(
    (k) => annotationOf(object, k) !== undefined,
  );
}

/** The kinds that can be hooks: they run to completion. */
export function isHookKind(group: string, kind: string): boolean {
  return (group === 'batch' && kind === 'Job') || (group === '' && kind === 'Pod');
}

function phaseOf(
  object: Record<string, unknown>,
): HookPhase | { skip: string } | { invalid: string } | undefined {
  const own = annotationOf(object, HOOK_ANNOTATION);
  if (own !== undefined) {
    const phases = [...new Set(list(own).map((p) => TETHER_PHASES[p] ?? p))];
    if (phases.length === 1 && TETHER_PHASES[phases[0]!]) return phases[0] as HookPhase;
    return {
      invalid: `${HOOK_ANNOTATION} must be one of pre-sync, sync, post-sync, sync-fail, got ${JSON.stringify(own)}`,
    };
  }
  const argo = annotationOf(object, ARGO_HOOK_ANNOTATION);
  if (argo !== undefined) {
    const phases = [...new Set(list(argo).map((p) => ARGO_PHASES[p] ?? `?${p}`))];
    if (phases.includes('skip')) return { skip: `${ARGO_HOOK_ANNOTATION}: Skip` };
    const known = phases.filter((p): p is HookPhase => !p.startsWith('?'));
    if (known.length === 1 && phases.length === 1) return known[0];
    return {
      invalid: `${ARGO_HOOK_ANNOTATION} must be one of PreSync, Sync, PostSync, SyncFail, Skip (one phase), got ${JSON.stringify(argo)}`,
    };
  }
  const helm = annotationOf(object, HELM_HOOK_ANNOTATION);
  if (helm !== undefined) {
    const phases = [...new Set(list(helm).map((p) => HELM_PHASES[p] ?? `?${p}`))];
    const run = phases.filter((p): p is HookPhase => p !== 'not-run' && !p.startsWith('?'));
    if (run.length === 1) return run[0];
    if (run.length === 0 && phases.every((p) => p === 'not-run'))
      return { skip: `${HELM_HOOK_ANNOTATION}: ${helm} (Tether runs only install and upgrade hooks)` };
    return {
      invalid: `${HELM_HOOK_ANNOTATION} ${JSON.stringify(helm)}: Tether runs pre-install/pre-upgrade (as pre-sync) and post-install/post-upgrade (as post-sync) hooks, one phase per object`,
    };
  }
  return undefined;
}

function policiesOf(object: Record<string, unknown>): DeletePolicy[] | { invalid: string } {
  for (const key of [
    HOOK_DELETE_POLICY_ANNOTATION,
    ARGO_HOOK_DELETE_POLICY_ANNOTATION,
    HELM_HOOK_DELETE_POLICY_ANNOTATION,
  ]) {
    const raw = annotationOf(object, key);
    if (raw === undefined) continue;
    const out: DeletePolicy[] = [];
    for (const p of list(raw)) {
      const policy = POLICIES[p];
      if (!policy)
        return {
          invalid: `${key}: unknown delete policy ${JSON.stringify(p)} (before-hook-creation, hook-succeeded, hook-failed)`,
        };
      if (!out.includes(policy)) out.push(policy);
    }
    return out.length > 0 ? out : ['before-hook-creation'];
  }
  return ['before-hook-creation'];
}

/** The object's hook annotations read; undefined when it is not a hook. */
export function hookOf(object: Record<string, unknown>): HookSpec | undefined {
  const phase = phaseOf(object);
  if (phase === undefined) return undefined;
  if (typeof phase === 'object')
    return 'skip' in phase
      ? { kind: 'skip', reason: phase.skip }
      : { kind: 'invalid', message: phase.invalid };
  const policies = policiesOf(object);
  if (!Array.isArray(policies)) return { kind: 'invalid', message: policies.invalid };
  return { kind: 'hook', phase, deletePolicies: policies };
}

/** A hook's outcome, as sync prints it and the audit log records it. */
export type HookOutcome = 'succeeded' | 'failed' | 'timed-out';

/** The steps of a sync, for syncWithHooks. */
export interface HookSteps {
  /** Whether the commit has hooks of the phase. */
  has(phase: HookPhase): boolean;
  /** Runs the hooks of the phase; false when one failed or timed out. */
  hooks(phase: HookPhase): Promise<boolean>;
  /** The apply of the app's objects; false when an object failed. */
  apply(): Promise<boolean>;
  /** Waits for the applied objects to be healthy (before post-sync hooks); throws when they are not. */
  settle(): Promise<void>;
}

export type HookedSync = 'applied' | 'failed' | 'pre-sync-failed';

/**
 * The order of a sync with hooks, as Argo CD's: pre-sync hooks; the apply; sync hooks; once
 * the applied objects are healthy, post-sync hooks. A failed pre-sync hook stops the sync
 * before anything else is applied. Whatever failed, sync-fail hooks run last (an error that
 * stopped the sync is thrown again after them). Hooks run only for a commit new to the
 * cluster: a heal of drift runs none.
 */
export async function syncWithHooks(commitIsNew: boolean, steps: HookSteps): Promise<HookedSync> {
  if (!commitIsNew) return (await steps.apply()) ? 'applied' : 'failed';
  const syncFail = async () => {
    if (steps.has('sync-fail')) await steps.hooks('sync-fail');
  };
  if (steps.has('pre-sync') && !(await steps.hooks('pre-sync'))) {
    await syncFail();
    return 'pre-sync-failed';
  }
  let ok: boolean;
  try {
    ok = await steps.apply();
    if (ok && steps.has('sync')) ok = await steps.hooks('sync');
    if (ok && steps.has('post-sync')) {
      await steps.settle();
      ok = await steps.hooks('post-sync');
    }
  } catch (e) {
    await syncFail();
    throw e;
  }
  if (!ok) await syncFail();
  return ok ? 'applied' : 'failed';
}

/** Whether a hook is deleted once it finished with this outcome. */
export function deleteAfter(policies: readonly DeletePolicy[], outcome: HookOutcome): boolean {
  return outcome === 'succeeded' ? policies.includes('hook-succeeded') : policies.includes('hook-failed');
}
