/**
 * Prune planning, pure: what is in the inventory and no longer in Git, in a safe deletion
 * order, and the guard against deleting most of an app in one reconcile.
 */
import type { ObjectId } from '../manifests/index.ts';
import { PruneGuardError } from './errors.ts';

const identity = (id: ObjectId): string => [id.group, id.kind, id.namespace, id.name].join('\u0000');

/** Objects of the previous inventory that the current plan no longer has (versions ignored). */
export function pruneCandidates(previous: ObjectId[], current: ObjectId[]): ObjectId[] {
  const keep = new Set(current.map(identity));
  return previous.filter((id) => !keep.has(identity(id)));
}

function rank(id: ObjectId): number {
  if (id.group === '' && id.kind === 'Namespace') return 3;
  if (id.group === 'apiextensions.k8s.io' && id.kind === 'CustomResourceDefinition') return 2;
  return id.namespace === '' ? 1 : 0;
}

/** Reverse of the apply order: namespaced objects, then cluster-scoped, then CRDs, then Namespaces. */
export function pruneOrder(ids: ObjectId[]): ObjectId[] {
  return [...ids].sort((a, b) => rank(a) - rank(b) || (identity(a) < identity(b) ? -1 : 1));
}

/** Refuses to delete more than half of an app's inventory at once unless allowed. */
export function checkPruneGuard(
  candidates: number,
  inventorySize: number,
  allowMassPrune: boolean,
  app: string,
): void {
  if (allowMassPrune || candidates === 0 || candidates * 2 <= inventorySize) return;
  throw new PruneGuardError(
    `prune guard: app ${app} would delete ${candidates} of its ${inventorySize} objects (more than half); nothing was pruned`,
    {
      hint: 'if the deletion is intended, allow it once with --allow-mass-prune (or sync.pruneGuard: false in the config)',
    },
  );
}
