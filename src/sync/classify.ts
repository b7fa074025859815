/**
 * The one per-object step that sync, drift and diff share: an object's apply policy, whether
 * the cluster can take it yet, its live state, and the evaluation of Git's object against it
 * (a forced server-side dry-run, the drifted fields with their owners, the conflicts). Each
 * command turns the classification into its own words (see outcome.ts); none of them
 * repeats this sequence.
 */
import {
  ADOPT_ANNOTATION,
  APP_LABEL,
  APPLY_ANNOTATION,
  RECREATE_ANNOTATION,
  annotationOf,
  labelOf,
} from '../contract.ts';
import type { KubeObject } from '../cluster/apply.ts';
import type { ResourceInfo } from '../cluster/discovery.ts';
import { ApiStatusError } from '../cluster/errors.ts';
import type { IgnoreRule } from '../diff/index.ts';
import type { ObjectId } from '../manifests/index.ts';
import type { ClusterConditionError, ObjectRejectedError } from './errors.ts';
import { ForeignObjectError, ImmutableFieldError, refusalOf, UnservedKindError } from './errors.ts';
import { evaluate, type Evaluation } from './evaluate.ts';
import type { Connection } from './pipeline.ts';
import type { PlannedObject } from './plan.ts';
import { maskError } from '../manifests/index.ts';

export type ApplyPolicy = 'normal' | 'create-only' | 'ignore';

export function applyPolicy(p: PlannedObject): ApplyPolicy {
  const a = annotationOf(p.manifest.object, APPLY_ANNOTATION);
  return a === 'create-only' || a === 'ignore' ? a : 'normal';
}

/** Whether an immutable-field change may delete and recreate the object (--recreate or its annotation). */
export function recreateAllowed(p: PlannedObject, recreate: boolean): boolean {
  return recreate || annotationOf(p.manifest.object, RECREATE_ANNOTATION) === 'true';
}

/** The object's identity as applied: its namespace defaulted. */
export function resolvedId(p: PlannedObject): ObjectId {
  return { ...p.manifest.id, namespace: p.namespace };
}

export type Classification =
  /** `tether.dev/apply: ignore`: never read nor written. */
  | { kind: 'ignored' }
  /** Its CRD or its Namespace comes with this commit and is not there yet: cannot be dry-run. */
  | { kind: 'pending'; error: UnservedKindError | undefined }
  /** The live object belongs to another app: refused unless adopted. */
  | { kind: 'foreign'; live: KubeObject; error: ForeignObjectError }
  /** `tether.dev/apply: create-only` and the object exists: left as it is. */
  | { kind: 'create-only'; live: KubeObject }
  /** Evaluated against the live object (absent: it would be created). */
  | { kind: 'evaluated'; evaluation: Evaluation }
  /** The dry-run says an immutable field would change. */
  | { kind: 'immutable'; info: ResourceInfo; live: KubeObject; error: ImmutableFieldError }
  /** The API server refused the dry-run (for the commit's or the cluster's reasons). */
  | { kind: 'failed'; error: ObjectRejectedError | ClusterConditionError; live: KubeObject | undefined };

export interface ClassifyContext {
  /** The app the objects are applied for: an object another app's label names is not ours. */
  app: string;
  /** Take objects of other apps over (--adopt); an object can ask with tether.dev/adopt too. */
  adopt: boolean;
  ignore: IgnoreRule[];
  /** Namespaces this commit creates that do not exist yet. */
  missingNamespaces: ReadonlySet<string>;
}

export async function classify(
  conn: Connection,
  p: PlannedObject,
  ctx: ClassifyContext,
): Promise<Classification> {
  if (applyPolicy(p) === 'ignore') return { kind: 'ignored' };
  const id = resolvedId(p);
  const source = p.manifest.source;
  const info = await conn.discovery.lookup(id.group, id.version, id.kind);
  if (!info)
    return {
      kind: 'pending',
      error: new UnservedKindError(id, source, 'the cluster does not serve this kind'),
    };
  if (p.namespaced && ctx.missingNamespaces.has(p.namespace)) return { kind: 'pending', error: undefined };
  let live: KubeObject | undefined;
  try {
    live = await conn.live.get(info, p.namespace, id.name);
    const owner = live ? labelOf(live, APP_LABEL) : undefined;
    if (
      live &&
      owner &&
      owner !== ctx.app &&
      !ctx.adopt &&
      annotationOf(p.manifest.object, ADOPT_ANNOTATION) !== 'true'
    )
      return { kind: 'foreign', live, error: new ForeignObjectError(id, source, owner, ctx.app) };
    if (live && applyPolicy(p) === 'create-only') return { kind: 'create-only', live };
    return {
      kind: 'evaluated',
      evaluation: await evaluate(conn.client, info, p, live, ctx.ignore, conn.dryRuns),
    };
  } catch (e) {
    if (!(e instanceof ApiStatusError)) throw e;
    if (conn.mask) maskError(e, conn.mask);
    if (live && e.immutable) {
      const detail = `${e.detail} (an immutable field changed: allow delete-and-recreate with the annotation ${RECREATE_ANNOTATION}: "true" or --recreate)`;
      return {
        kind: 'immutable',
        info,
        live,
        error: new ImmutableFieldError(id, source, detail, e.immutableFields, { cause: e }),
      };
    }
    return { kind: 'failed', error: refusalOf(id, source, e), live };
  }
}

/** Namespaces this plan creates that do not exist yet: objects in them are dry-run later. */
export async function missingNamespaces(conn: Connection, plan: PlannedObject[]): Promise<Set<string>> {
  const missing = new Set<string>();
  const info = await conn.discovery.lookup('', 'v1', 'Namespace');
  for (const p of plan) {
    const { group, kind, name } = p.manifest.id;
    if (group !== '' || kind !== 'Namespace') continue;
    if (!info || !(await conn.live.get(info, '', name))) missing.add(name);
  }
  return missing;
}
