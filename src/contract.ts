/**
 * Tether's contract with the cluster, in one place: the field manager it applies as, the
 * labels it puts on what it applies, and the tether.dev/* annotations it reads from Git.
 * Users, tests and other tools rely on these exact strings (DESIGN.md, "Contracts").
 */

/** The field manager of every server-side apply Tether sends. */
export const FIELD_MANAGER = 'tether';

/** Set to `tether` on every applied object; the agent's watches select on it. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'tether';
/** The app that applied an object; prune and the watch route by it. */
export const APP_LABEL = 'tether.dev/app';
/** Where an object came from: `<repository>//<path>`, credentials removed (prune checks it). */
export const SOURCE_ANNOTATION = 'tether.dev/source';
/** `"true"` on an object in Git: take it over from the app that applied it before. */
export const ADOPT_ANNOTATION = 'tether.dev/adopt';
/** On an inventory ConfigMap: the app whose inventory it is. */
export const INVENTORY_LABEL = 'tether.dev/inventory';

/** `"N"`: apply order within a stage, lowest first. */
export const SYNC_WAVE_ANNOTATION = 'tether.dev/sync-wave';
/** `"false"`: never delete this object when it leaves Git. */
export const PRUNE_ANNOTATION = 'tether.dev/prune';
/** `create-only` (create when missing, never update) or `ignore` (never touch). */
export const APPLY_ANNOTATION = 'tether.dev/apply';
/** `"true"`: delete and recreate the object when an immutable field changes. */
export const RECREATE_ANNOTATION = 'tether.dev/recreate';
/** `"true"` on a workload: its pod template gets a hash of the config it references. */
export const CONFIG_HASH_ANNOTATION = 'tether.dev/config-hash';

/** The label selector of everything Tether applied. */
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/** An annotation of an object as written in Git (undefined when absent or not a string). */
export function annotationOf(object: Record<string, unknown>, key: string): string | undefined {
  const metadata = object.metadata as { annotations?: Record<string, unknown> } | undefined;
  const v = metadata?.annotations?.[key];
  return typeof v === 'string' ? v : undefined;
}

/** A label of an object (undefined when absent). */
export function labelOf(object: { metadata?: unknown }, key: string): string | undefined {
  const metadata = object.metadata as { labels?: Record<string, unknown> } | undefined;
  const v = metadata?.labels?.[key];
  return typeof v === 'string' ? v : undefined;
}

/** `pre-sync | sync | post-sync | sync-fail` on a Job or Pod: a sync hook (src/sync/hooks.ts). */
export const HOOK_ANNOTATION = 'tether.dev/hook';
/** `before-hook-creation` (default), `hook-succeeded`, `hook-failed`: comma list. */
export const HOOK_DELETE_POLICY_ANNOTATION = 'tether.dev/hook-delete-policy';
/** Argo CD's and Helm's hook annotations, read as the same. */
export const ARGO_HOOK_ANNOTATION = 'argocd.argoproj.io/hook';
export const ARGO_HOOK_DELETE_POLICY_ANNOTATION = 'argocd.argoproj.io/hook-delete-policy';
export const HELM_HOOK_ANNOTATION = 'helm.sh/hook';
export const HELM_HOOK_DELETE_POLICY_ANNOTATION = 'helm.sh/hook-delete-policy';
