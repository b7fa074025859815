/**
 * Report mode (`tether drift`, and apps in report mode): the live cluster against Git, per
 * object in-sync / drifted / missing / orphaned / conflict / error, with every drifted field's
 * owners. Writes nothing: only GETs and dry-runs.
 */
import { formatId } from '../manifests/index.ts';
import { ApiStatusError } from '../cluster/errors.ts';
import { readInventory } from '../cluster/inventory.ts';
import type { IgnoreRule } from '../diff/index.ts';
import { mapConcurrent } from '../util/concurrency.ts';
import { applyPolicy, evaluate } from './evaluate.ts';
import { missingNamespaces, resolvedId } from './execute.ts';
import { APP_LABEL, type PlannedObject } from './plan.ts';
import { pruneCandidates } from './prune.ts';
import type { Connection } from './pipeline.ts';
import type { ObjectResult } from './result.ts';

export interface ReportInput extends Connection {
  plan: PlannedObject[];
  app: string;
  namespace: string;
  ignore: IgnoreRule[];
  concurrency?: number;
}

async function reportOne(
  input: ReportInput,
  p: PlannedObject,
  missingNs: Set<string>,
): Promise<ObjectResult> {
  const base = { id: resolvedId(p), source: p.manifest.source, fields: [], conflicts: [] };
  if (applyPolicy(p) === 'ignore') return { ...base, status: 'in-sync', message: 'tether.dev/apply: ignore' };
  const { group, version, kind, name } = p.manifest.id;
  const info = await input.discovery.lookup(group, version, kind);
  // Its CRD or namespace is not there yet: the object cannot exist either.
  if (!info || (p.namespaced && missingNs.has(p.namespace))) return { ...base, status: 'missing' };
  try {
    const live = await input.live.get(info, p.namespace, name);
    if (live && applyPolicy(p) === 'create-only')
      return { ...base, status: 'in-sync', message: 'tether.dev/apply: create-only' };
    const e = await evaluate(input.client, info, p, live, input.ignore, input.dryRuns);
    if (!live) return { ...base, status: 'missing' };
    if (e.conflicts.length > 0)
      return { ...base, status: 'conflict', fields: e.drift, conflicts: e.conflicts };
    return { ...base, status: e.drift.length > 0 ? 'drifted' : 'in-sync', fields: e.drift };
  } catch (err) {
    if (!(err instanceof ApiStatusError)) throw err;
    const s = p.manifest.source;
    return {
      ...base,
      status: 'error',
      message: `${s.file}:${s.line}:${s.column}: ${formatId(base.id)}: ${err.message.replace(/^[A-Z]+ \S+: /, '')}`,
    };
  }
}

export async function reportDrift(input: ReportInput): Promise<ObjectResult[]> {
  const missingNs = await missingNamespaces(input, input.plan);
  const results = await mapConcurrent(
    input.plan,
    input.concurrency ?? 8,
    (p) => reportOne(input, p, missingNs),
    (done, total) => input.onProgress?.('dry-run', done, total),
  );
  // Objects Tether applied for this app before that are no longer in Git.
  const inventory = await readInventory(input, input.app, input.namespace);
  for (const id of pruneCandidates(inventory?.entries ?? [], input.plan.map(resolvedId))) {
    const info = await input.discovery.lookup(id.group, id.version, id.kind);
    const live = info ? await input.live.get(info, id.namespace, id.name) : undefined;
    const labels = (live?.metadata.labels ?? {}) as Record<string, string>;
    if (live && labels[APP_LABEL] === input.app)
      results.push({ id, fields: [], conflicts: [], status: 'orphaned' });
  }
  return results;
}
