/**
 * Applying a commit (apply mode). Every object that can be validated now is dry-run before
 * the first write; objects that need this commit's Namespaces or CRDs are dry-run right after
 * those definitions are applied and before anything else is written. Objects that would not
 * change are not patched. Conflicting fields of other server-side appliers are left alone
 * unless the conflict policy is `force`. Prune runs only after every object applied.
 */
import { formatId, type ObjectId } from '../manifests/index.ts';
import { TetherError } from '../errors.ts';
import { applyObject, type KubeObject } from '../cluster/apply.ts';
import { deleteObject } from '../cluster/delete.ts';
import { ApiStatusError } from '../cluster/errors.ts';
import { readInventory, writeInventory, type Inventory } from '../cluster/inventory.ts';
import { waitForCrdEstablished, waitForDeletion } from '../cluster/wait.ts';
import type { IgnoreRule } from '../diff/index.ts';
import { mapConcurrent } from '../util/concurrency.ts';
import { applyPolicy, evaluate, objectToApply, sameAsLive, type Evaluation } from './evaluate.ts';
import { APP_LABEL, namespacesCreatedBy, type PlannedObject } from './plan.ts';
import { checkPruneGuard, PRUNE_ANNOTATION, pruneCandidates, pruneOrder } from './prune.ts';
import type { Connection } from './pipeline.ts';
import type { ObjectResult } from './result.ts';

export const RECREATE_ANNOTATION = 'tether.dev/recreate';

export interface SyncSettings {
  prune: boolean;
  conflicts: 'report' | 'force';
  ignore: IgnoreRule[];
  /** Lets prune delete more than half of the inventory at once. */
  allowMassPrune: boolean;
  /** Lets an immutable-field change delete and recreate the object. */
  recreate: boolean;
}

export const DEFAULT_SETTINGS: SyncSettings = {
  prune: false,
  conflicts: 'report',
  ignore: [],
  allowMassPrune: false,
  recreate: false,
};

export interface ApplyInput extends Connection {
  plan: PlannedObject[];
  commit: string;
  app: string;
  /** Where the app's inventory lives (its default namespace). */
  namespace: string;
  settings: SyncSettings;
  concurrency?: number;
}

export interface ApplyOutcome {
  results: ObjectResult[];
  inventoryWritten: boolean;
  /** The commit the app's inventory recorded before this apply (undefined: first apply). */
  previousCommit: string | undefined;
}

export class ApplyErrors extends TetherError {
  readonly errors: string[];
  constructor(errors: string[], commit: string, written: boolean) {
    super(
      `commit ${commit.slice(0, 7)} was rejected by the API server:\n` +
        errors.map((e) => `  ${e}`).join('\n'),
      {
        hint: written
          ? "fix the manifests and push a new commit; only this commit's Namespaces and CRDs were applied, nothing else was written"
          : 'fix the manifests and push a new commit; nothing was written',
      },
    );
    this.errors = errors;
  }
}

interface Checked {
  planned: PlannedObject;
  evaluation?: Evaluation;
  live?: KubeObject;
  /** The dry-run hit an immutable field and recreating is allowed. */
  recreate?: boolean;
}

function where(p: PlannedObject): string {
  const s = p.manifest.source;
  return `${s.file}:${s.line}:${s.column}`;
}

export function resolvedId(p: PlannedObject): ObjectId {
  return { ...p.manifest.id, namespace: p.namespace };
}

function isImmutableError(e: ApiStatusError): boolean {
  return e.status === 422 && /immutable/i.test(e.message + JSON.stringify(e.causes));
}

function recreateAllowed(p: PlannedObject, settings: SyncSettings): boolean {
  const a = (p.manifest.object.metadata as { annotations?: Record<string, unknown> }).annotations?.[
    RECREATE_ANNOTATION
  ];
  return settings.recreate || a === 'true';
}

async function check(input: ApplyInput, items: PlannedObject[], written: boolean): Promise<Checked[]> {
  const errors: string[] = [];
  const checked = await mapConcurrent(
    items,
    input.concurrency ?? 8,
    async (p): Promise<Checked | undefined> => {
      const id = p.manifest.id;
      if (applyPolicy(p) === 'ignore') return { planned: p };
      const info = await input.discovery.lookup(id.group, id.version, id.kind);
      if (!info) {
        errors.push(`${where(p)}: ${formatId(id)}: the cluster does not serve this kind`);
        return undefined;
      }
      let live: KubeObject | undefined;
      try {
        live = await input.live.get(info, p.namespace, id.name);
        if (live && applyPolicy(p) === 'create-only') return { planned: p, live };
        return {
          planned: p,
          live,
          evaluation: await evaluate(input.client, info, p, live, input.settings.ignore, input.dryRuns),
        };
      } catch (e) {
        if (!(e instanceof ApiStatusError)) throw e;
        if (live && isImmutableError(e)) {
          if (recreateAllowed(p, input.settings)) return { planned: p, live, recreate: true };
          errors.push(
            `${where(p)}: ${formatId(resolvedId(p))}: ${e.message.replace(/^[A-Z]+ \S+: /, '')} ` +
              `(an immutable field changed: allow delete-and-recreate with the annotation ${RECREATE_ANNOTATION}: "true" or --recreate)`,
          );
          return undefined;
        }
        errors.push(`${where(p)}: ${formatId(resolvedId(p))}: ${e.message.replace(/^[A-Z]+ \S+: /, '')}`);
        return undefined;
      }
    },
    (done, total) => input.onProgress?.('dry-run', done, total),
  );
  if (errors.length > 0) throw new ApplyErrors(errors.sort(), input.commit, written);
  return checked.filter((c): c is Checked => c !== undefined);
}

async function writeOne(input: ApplyInput, c: Checked): Promise<ObjectResult> {
  const p = c.planned;
  const base = { id: resolvedId(p), source: p.manifest.source, fields: [], conflicts: [] };
  if (applyPolicy(p) === 'ignore') return { ...base, status: 'skipped', message: 'tether.dev/apply: ignore' };
  if (!c.evaluation && c.live && !c.recreate) {
    return { ...base, status: 'skipped', message: 'tether.dev/apply: create-only, and the object exists' };
  }
  const id = p.manifest.id;
  const info = (await input.discovery.lookup(id.group, id.version, id.kind))!;
  try {
    if (c.recreate && c.live) {
      await deleteObject(input.client, info, p.namespace, id.name, { uid: c.live.metadata.uid as string });
      await waitForDeletion(input.client, info, p.namespace, id.name);
      await applyObject(input.client, info, p.object, { force: true });
      return { ...base, status: 'configured', message: 'recreated: an immutable field changed' };
    }
    const e = c.evaluation!;
    const force = input.settings.conflicts === 'force';
    const object = objectToApply(e, force);
    // Without stripped fields, the evaluation already knows; else dry-run what would be sent.
    const same =
      object === p.object
        ? e.same
        : sameAsLive(c.live, await applyObject(input.client, info, object, { dryRun: true, force: true }));
    const fields = e.drift.filter((f) => !e.conflicts.includes(f) || force);
    const managers = [...new Set(e.conflicts.flatMap((f) => f.owners.map((o) => o.manager)))].filter(
      (m) => m !== 'tether',
    );
    const conflictNote = e.conflicts.length
      ? force
        ? {
            message: `took over ${e.conflicts.length} field(s) from ${managers.join(', ')} (conflict policy: force)`,
          }
        : {
            message: `left ${e.conflicts.length} field(s) to ${managers.join(', ')} (conflict policy: report)`,
          }
      : {};
    const status = e.conflicts.length && !force ? 'conflict' : undefined;
    if (same) {
      return { ...base, status: status ?? 'unchanged', fields: [], conflicts: e.conflicts, ...conflictNote };
    }
    await applyObject(input.client, info, object, { force: true });
    return {
      ...base,
      status: status ?? (c.live ? 'configured' : 'created'),
      fields,
      conflicts: e.conflicts,
      ...conflictNote,
    };
  } catch (err) {
    if (!(err instanceof ApiStatusError)) throw err;
    return { ...base, status: 'failed', message: err.message };
  }
}

async function write(input: ApplyInput, items: Checked[]): Promise<ObjectResult[]> {
  const results: ObjectResult[] = [];
  // Waves run one after the other; objects within a wave run concurrently.
  const waves = [...new Set(items.map((c) => `${c.planned.stage}/${c.planned.wave}`))];
  for (const wave of waves) {
    const batch = items.filter((c) => `${c.planned.stage}/${c.planned.wave}` === wave);
    results.push(
      ...(await mapConcurrent(
        batch,
        input.concurrency ?? 8,
        (c) => writeOne(input, c),
        (done, total) => input.onProgress?.('apply', done, total),
      )),
    );
  }
  return results;
}

/** Namespaces this plan creates that do not exist yet: objects in them are dry-run later. */
export async function missingNamespaces(conn: Connection, plan: PlannedObject[]): Promise<Set<string>> {
  const missing = new Set<string>();
  const info = await conn.discovery.lookup('', 'v1', 'Namespace');
  for (const ns of namespacesCreatedBy(plan))
    if (!info || !(await conn.live.get(info, '', ns))) missing.add(ns);
  return missing;
}

async function prune(
  input: ApplyInput,
  previous: Inventory | undefined,
): Promise<{ results: ObjectResult[]; keep: ObjectId[] }> {
  const current = input.plan.map(resolvedId);
  const candidates = pruneOrder(pruneCandidates(previous?.entries ?? [], current));
  const results: ObjectResult[] = [];
  const deletable: { id: ObjectId; uid: string }[] = [];
  for (const id of candidates) {
    const info = await input.discovery.lookup(id.group, id.version, id.kind);
    const live = info ? await input.live.get(info, id.namespace, id.name) : undefined;
    if (!live) continue;
    const labels = (live.metadata.labels ?? {}) as Record<string, string>;
    const annotations = (live.metadata.annotations ?? {}) as Record<string, string>;
    // Another app (or a person) took the object over: it is no longer ours to delete.
    if (labels[APP_LABEL] !== input.app) continue;
    if (annotations[PRUNE_ANNOTATION] === 'false') {
      results.push({
        id,
        fields: [],
        conflicts: [],
        status: 'skipped',
        message: `not pruned: ${PRUNE_ANNOTATION}: "false"`,
      });
      continue;
    }
    deletable.push({ id, uid: live.metadata.uid as string });
  }
  if (!input.settings.prune) return { results: [], keep: deletable.map((d) => d.id) };
  checkPruneGuard(deletable.length, previous?.entries.length ?? 0, input.settings.allowMassPrune, input.app);
  for (const { id, uid } of deletable) {
    const info = (await input.discovery.lookup(id.group, id.version, id.kind))!;
    await deleteObject(input.client, info, id.namespace, id.name, { uid });
    results.push({ id, fields: [], conflicts: [], status: 'pruned' });
  }
  return { results, keep: [] };
}

export async function applyCommit(input: ApplyInput): Promise<ApplyOutcome> {
  const { plan, client, discovery } = input;
  const missing = await missingNamespaces(input, plan);
  const deferred = (p: PlannedObject) => p.definedByCommit || (p.namespaced && missing.has(p.namespace));
  const previous = await readInventory(input, input.app, input.namespace);

  const now = await check(
    input,
    plan.filter((p) => !deferred(p)),
    false,
  );
  const definitions = now.filter((c) => c.planned.stage === 'definitions');
  const results = await write(input, definitions);
  for (const c of definitions) {
    if (c.planned.manifest.id.kind === 'CustomResourceDefinition' && applyPolicy(c.planned) !== 'ignore') {
      await waitForCrdEstablished(client, c.planned.manifest.id.name);
    }
  }
  if (definitions.some((c) => c.planned.manifest.id.kind === 'CustomResourceDefinition'))
    await discovery.refresh();

  const later = await check(
    input,
    plan.filter(deferred),
    results.some((r) => r.status !== 'unchanged'),
  );
  const rest = [...now.filter((c) => c.planned.stage !== 'definitions'), ...later];
  const order = new Map(plan.map((p, i) => [p, i]));
  rest.sort((a, b) => order.get(a.planned)! - order.get(b.planned)!);
  results.push(...(await write(input, rest)));

  // Never prune (nor forget what to prune) after a failure anywhere in the commit.
  if (results.some((r) => r.status === 'failed'))
    return { results, inventoryWritten: false, previousCommit: previous?.commit };
  const pruned = await prune(input, previous);
  results.push(...pruned.results);
  const inventoryWritten = await writeInventory(
    client,
    discovery,
    {
      app: input.app,
      namespace: input.namespace,
      commit: input.commit,
      entries: [...plan.map(resolvedId), ...pruned.keep],
    },
    previous,
  );
  return { results, inventoryWritten, previousCommit: previous?.commit };
}
