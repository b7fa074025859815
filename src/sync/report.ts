/**
 * Report mode (`tether drift`, and apps in report mode): the live cluster against Git, per
 * object in-sync / drifted / missing / orphaned / conflict / error, with every drifted field's
 * owners. Writes nothing: only GETs and dry-runs.
 */
import { readInventory } from '../cluster/inventory.ts';
import type { KubeObject } from '../cluster/apply.ts';
import { healthOf } from '../health/index.ts';
import type { IgnoreRule } from '../diff/index.ts';
import { mapConcurrent } from '../util/concurrency.ts';
import { classify, missingNamespaces, resolvedId, type Classification } from './classify.ts';
import { ClusterConditionError } from './errors.ts';
import { findOrphans } from './orphans.ts';
import { CREATE_ONLY_REASON, IGNORED_REASON, type ObjectResult, type ReportStatus } from './outcome.ts';
import type { Connection } from './pipeline.ts';
import type { PlannedObject } from './plan.ts';

export interface ReportInput extends Connection {
  plan: PlannedObject[];
  app: string;
  /** The app's source identity (orphans are objects that record it). */
  source: string;
  namespace: string;
  ignore: IgnoreRule[];
  concurrency?: number;
}

export type ReportResult = ObjectResult<ReportStatus>;

/** The live object a classification saw, if any. */
function liveOf(c: Classification): KubeObject | undefined {
  switch (c.kind) {
    case 'ignored':
    case 'pending':
      return undefined;
    case 'evaluated':
      return c.evaluation.live;
    default:
      return c.live;
  }
}

/** A classification in report mode's words, with the live object's health. */
export function reportOf(p: PlannedObject, c: Classification): ReportResult {
  const result = reportStatusOf(p, c);
  if (c.kind === 'ignored') return result;
  return { ...result, health: healthOf(liveOf(c)) };
}

function reportStatusOf(p: PlannedObject, c: Classification): ReportResult {
  const base = { id: resolvedId(p), source: p.manifest.source, fields: [], conflicts: [] };
  switch (c.kind) {
    case 'ignored':
      return { ...base, status: 'in-sync', message: IGNORED_REASON };
    case 'create-only':
      return { ...base, status: 'in-sync', message: CREATE_ONLY_REASON };
    case 'foreign':
      return { ...base, status: 'conflict', message: c.error.message, error: c.error };
    // Its CRD or namespace is not there yet: the object cannot exist either.
    case 'pending':
      return { ...base, status: 'missing' };
    case 'failed':
      // Not there, and the cluster cannot take it yet (its namespace is missing): missing, and why.
      if (!c.live && c.error instanceof ClusterConditionError)
        return { ...base, status: 'missing', message: c.error.detail };
      return { ...base, status: 'error', message: c.error.message, error: c.error };
    case 'immutable':
      return { ...base, status: 'error', message: c.error.message, error: c.error };
    case 'evaluated': {
      const e = c.evaluation;
      if (!e.live) return { ...base, status: 'missing' };
      if (e.conflicts.length > 0)
        return { ...base, status: 'conflict', fields: e.drift, conflicts: e.conflicts };
      return { ...base, status: e.drift.length > 0 ? 'drifted' : 'in-sync', fields: e.drift };
    }
  }
}

export async function reportDrift(input: ReportInput): Promise<ReportResult[]> {
  const ctx = {
    app: input.app,
    adopt: false,
    ignore: input.ignore,
    missingNamespaces: await missingNamespaces(input, input.plan),
  };
  const results = await mapConcurrent(
    input.plan,
    input.concurrency ?? 8,
    async (p) => reportOf(p, await classify(input, p, ctx)),
    (done, total) => input.onProgress?.('dry-run', done, total),
  );
  const inventory = await readInventory(input, input.app, input.namespace);
  for (const { id } of await findOrphans(input, inventory, input.plan, {
    name: input.app,
    source: input.source,
  }))
    results.push({ id, fields: [], conflicts: [], status: 'orphaned' });
  return results;
}
