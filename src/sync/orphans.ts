/**
 * The one orphan scan: objects an app applied before (its inventory) that the current plan
 * no longer has and that still carry the app's label and its recorded source. Sync prunes them, drift reports them
 * as orphaned, diff shows them as deletions. An object another app (or a person) took over
 * no longer carries this app's label and is never an orphan of this app.
 */
import { annotationOf, APP_LABEL, labelOf, PRUNE_ANNOTATION, SOURCE_ANNOTATION } from '../contract.ts';
import type { KubeObject } from '../cluster/apply.ts';
import type { Inventory } from '../cluster/inventory.ts';
import type { ObjectId } from '../manifests/index.ts';
import { resolvedId } from './classify.ts';
import type { Connection } from './pipeline.ts';
import type { PlannedObject } from './plan.ts';
import { pruneCandidates, pruneOrder } from './prune.ts';

export interface Orphan {
  id: ObjectId;
  live: KubeObject;
}

/** Why an orphan is never pruned, or undefined when prune may delete it. */
export function keptReason(orphan: Orphan): string | undefined {
  return annotationOf(orphan.live, PRUNE_ANNOTATION) === 'false'
    ? `not pruned: ${PRUNE_ANNOTATION}: "false"`
    : undefined;
}

/** In prune order (the reverse of the apply order). */
export async function findOrphans(
  conn: Connection,
  inventory: Inventory | undefined,
  plan: PlannedObject[],
  app: { name: string; source: string },
): Promise<Orphan[]> {
  const out: Orphan[] = [];
  for (const id of pruneOrder(pruneCandidates(inventory?.entries ?? [], plan.map(resolvedId)))) {
    const info = await conn.discovery.lookup(id.group, id.version, id.kind);
    const live = info ? await conn.live.get(info, id.namespace, id.name) : undefined;
    // Its label, its inventory entry and its recorded source must all name this app.
    if (live && labelOf(live, APP_LABEL) === app.name && annotationOf(live, SOURCE_ANNOTATION) === app.source)
      out.push({ id, live });
  }
  return out;
}
