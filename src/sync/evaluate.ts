/**
 * Evaluating one planned object against the cluster, without writing: its live state, a
 * forced server-side dry-run of what Git wants, the drifted fields with their owners, the
 * conflicts with other server-side appliers, and the fields ignore rules keep out of the apply.
 */
import { isDeepStrictEqual } from 'node:util';
import { FIELD_MANAGER } from '../contract.ts';
import { applyObject, type KubeObject } from '../cluster/apply.ts';
import type { KubeClient } from '../cluster/client.ts';
import type { ResourceInfo } from '../cluster/discovery.ts';
import {
  classifyFieldDrift,
  compileIgnoreRules,
  computeDrift,
  ignoreRulesFor,
  isFieldIgnored,
  type FieldDrift,
  type IgnoreRule,
} from '../diff/index.ts';
import {
  managerSet,
  ownersOf,
  parseManagedFields,
  parsePath,
  pointerAt,
  withoutPaths,
  type Path,
} from '../fieldset/index.ts';
import { DryRunCache, type CachedEvaluation } from './dry-run-cache.ts';
import type { PlannedObject } from './plan.ts';

export interface Evaluation {
  planned: PlannedObject;
  info: ResourceInfo;
  live: KubeObject | undefined;
  /**
   * Forced dry-run of the whole Git object: what the object looks like if Git wins. Absent
   * when `same` (a cached evaluation keeps no copy of an object identical to the live one).
   */
  dryRun: KubeObject | undefined;
  /** Applying the Git object would leave the live object exactly as it is. */
  same: boolean;
  drift: FieldDrift[];
  conflicts: FieldDrift[];
  /** Git's fields that ignore rules give to other managers: never applied. */
  ignored: Path[];
}

/** Leaves of Git's field set that an ignore rule covers and another manager owns live. */
function ignoredPaths(dryRun: KubeObject, live: KubeObject | undefined, rules: IgnoreRule[]): Path[] {
  if (!live || rules.length === 0) return [];
  const compiled = ignoreRulesFor(compileIgnoreRules(rules), dryRun);
  if (compiled.length === 0) return [];
  const gitSet = managerSet(parseManagedFields(dryRun), FIELD_MANAGER, 'Apply');
  const liveManaged = parseManagedFields(live);
  const out: Path[] = [];
  for (const leaf of gitSet?.leaves() ?? []) {
    const owners = ownersOf(leaf, liveManaged);
    if (!owners.some((o) => o.manager !== FIELD_MANAGER)) continue;
    const pointers = [pointerAt(dryRun, leaf), pointerAt(live, leaf)].filter((p) => p !== undefined);
    if (isFieldIgnored(compiled, { path: leaf, pointers, owners })) out.push(leaf);
  }
  return out;
}

export async function evaluate(
  client: KubeClient,
  info: ResourceInfo,
  planned: PlannedObject,
  live: KubeObject | undefined,
  ignore: IgnoreRule[],
  cache?: DryRunCache,
): Promise<Evaluation> {
  const key = cache ? DryRunCache.key(planned.digest, live) : '';
  const hit = cache?.get(key);
  if (hit) return { planned, info, live, ...hit };
  const dryRun = await applyObject(client, info, planned.object, { dryRun: true, force: true });
  const { fields } = computeDrift({ desired: dryRun, live, ignore });
  const same = sameAsLive(live, dryRun);
  const result: CachedEvaluation = {
    dryRun: same && cache ? undefined : dryRun,
    same,
    drift: fields,
    conflicts: fields.filter((f) => classifyFieldDrift(f, FIELD_MANAGER) === 'conflict'),
    ignored: ignoredPaths(dryRun, live, ignore),
  };
  cache?.set(key, result);
  return { planned, info, live, ...result };
}

/**
 * After `planned`'s own object (nothing stripped) was applied, its evaluation against the
 * object the API server answered is known without a dry-run: server-side apply of the same
 * object by the same manager changes nothing. Without this, the first reconcile after every
 * apply dry-ran each written object again (2,000 dry-runs in the tick after a first apply of
 * 2,000 objects), since their resourceVersion changed.
 */
export function rememberApplied(
  cache: DryRunCache | undefined,
  planned: PlannedObject,
  applied: KubeObject,
): void {
  cache?.set(DryRunCache.key(planned.digest, applied), {
    dryRun: undefined,
    same: true,
    drift: [],
    conflicts: [],
    ignored: [],
  });
}

/** The object to apply: Git's object without ignored fields and, unless forced, conflicting ones. */
export function objectToApply(e: Evaluation, forceConflicts: boolean): Record<string, unknown> {
  const strip = [...e.ignored, ...(forceConflicts ? [] : e.conflicts.map((c) => parsePath(c.path)))];
  return strip.length === 0 ? e.planned.object : withoutPaths(e.planned.object, strip);
}

/**
 * True when applying would leave the live object as it is. The live object and the dry-run
 * are read at two moments: what controllers change in between (status, their own
 * managedFields entries, the resourceVersion) is no change of ours, and must not make a
 * write (nor an audited heal with no fields) of an object that is in sync.
 */
export function sameAsLive(live: KubeObject | undefined, result: KubeObject): boolean {
  if (!live) return false;
  const strip = (o: KubeObject) => {
    const { status: _status, ...rest } = o;
    const managed = o.metadata.managedFields as { manager?: string }[] | undefined;
    return {
      ...rest,
      metadata: {
        ...o.metadata,
        resourceVersion: undefined,
        managedFields: managed?.filter((m) => m.manager === FIELD_MANAGER),
      },
    };
  };
  return isDeepStrictEqual(strip(live), strip(result));
}
