/**
 * Applying a commit (apply mode). Every object that can be validated now is dry-run before
 * the first write; objects that need this commit's Namespaces or CRDs are dry-run right after
 * those definitions are applied and before anything else is written. Objects that would not
 * change are not patched. Conflicting fields of other server-side appliers are left alone
 * unless the conflict policy is `force`. Prune runs only after every object applied.
 */
import { FIELD_MANAGER } from '../contract.ts';
import { applyObject } from '../cluster/apply.ts';
import { deleteObject } from '../cluster/delete.ts';
import { ApiStatusError } from '../cluster/errors.ts';
import { readInventory, writeInventory, type Inventory } from '../cluster/inventory.ts';
import { waitForCrdEstablished, waitForDeletion } from '../cluster/wait.ts';
import type { IgnoreRule } from '../diff/index.ts';
import { formatId, type ObjectId } from '../manifests/index.ts';
import { mapConcurrent } from '../util/concurrency.ts';
import {
  applyPolicy,
  classify,
  missingNamespaces,
  recreateAllowed,
  resolvedId,
  type Classification,
} from './classify.ts';
import {
  ApplyInterruptedError,
  CommitRejectedError,
  HookFailedError,
  ObjectRejectedError,
  refusalOf,
  UnservedKindError,
  WaveNotHealthyError,
  type ObjectError,
} from './errors.ts';
import { waitHealthy } from './wait.ts';
import { objectToApply, rememberApplied, sameAsLive } from './evaluate.ts';
import { findOrphans, keptReason, type Orphan } from './orphans.ts';
import { failpoint } from '../util/failpoint.ts';
import { CREATE_ONLY_REASON, IGNORED_REASON, type ApplyStatus, type ObjectResult } from './outcome.ts';
import type { Connection } from './pipeline.ts';
import type { PlannedHook, PlannedObject } from './plan.ts';
import { syncWithHooks, type HookPhase } from './hooks.ts';
import { runHooks, type HookResult } from './run-hooks.ts';
import { checkPruneGuard } from './prune.ts';
import { GateKeeper, OPEN_GATE, type PlannedWrite, type WriteGate } from './write-gate.ts';
import { maskError } from '../manifests/index.ts';

export interface SyncSettings {
  prune: boolean;
  conflicts: 'report' | 'force';
  ignore: IgnoreRule[];
  /** Lets prune delete more than half of the inventory at once. */
  allowMassPrune: boolean;
  /** Lets an immutable-field change delete and recreate the object. */
  recreate: boolean;
  /** Takes over objects another app applied (else they are refused). */
  adopt: boolean;
  /** How long a sync wave may take to become healthy before the later waves are given up. */
  waveTimeoutMs?: number;
}

/** Argo CD waits for each wave's health without a limit of its own; five minutes here. */
export const DEFAULT_WAVE_TIMEOUT_MS = 5 * 60_000;

export const DEFAULT_SETTINGS: SyncSettings = {
  prune: false,
  conflicts: 'report',
  ignore: [],
  allowMassPrune: false,
  recreate: false,
  adopt: false,
};

export interface ApplyInput extends Connection {
  plan: PlannedObject[];
  commit: string;
  app: string;
  /** The app's source identity: prune deletes only objects that record it. */
  source: string;
  /** Where the app's inventory lives (its default namespace). */
  namespace: string;
  settings: SyncSettings;
  /** The commit's sync hooks (planHooks), run only when the commit is new to the cluster. */
  hooks?: readonly PlannedHook[];
  /** Passed before every write: the audit log's intent record, fencing. Default: none. */
  gate?: WriteGate;
  concurrency?: number;
}

/** One reconcile's writes: through the gate, and remembered in case the reconcile stops. */
interface Run extends ApplyInput {
  keeper: GateKeeper;
  /** Objects written or refused so far, in order. */
  done: ApplyResult[];
  /**
   * Runs the sync hooks of waves up to this one not run yet, after the wave's objects are
   * written (and healthy, when a higher wave follows); throws when one failed. Set only when
   * the commit's hooks run.
   */
  syncHooks?: (wave: number) => Promise<void>;
}

export type ApplyResult = ObjectResult<ApplyStatus>;

export interface ApplyOutcome {
  results: ApplyResult[];
  inventoryWritten: boolean;
  /** The commit the app's inventory recorded before this apply (undefined: first apply). */
  previousCommit: string | undefined;
}

interface Checked {
  planned: PlannedObject;
  c: Classification;
}

/** Why a classified object stops the commit before any write, if it does. */
function rejection({ planned: p, c }: Checked, settings: SyncSettings): ObjectError | undefined {
  if (c.kind === 'failed') return c.error;
  if (c.kind === 'immutable' && !recreateAllowed(p, settings.recreate)) return c.error;
  if (c.kind === 'pending')
    return (
      c.error ??
      new UnservedKindError(resolvedId(p), p.manifest.source, `namespace ${p.namespace} does not exist`)
    );
  return undefined;
}

async function check(input: ApplyInput, items: PlannedObject[], written: boolean): Promise<Checked[]> {
  // Objects in namespaces this commit creates are checked after those exist (see applyCommit).
  const ctx = {
    app: input.app,
    adopt: input.settings.adopt,
    ignore: input.settings.ignore,
    missingNamespaces: new Set<string>(),
  };
  const checked = await mapConcurrent(
    items,
    input.concurrency ?? 8,
    async (p): Promise<Checked> => ({ planned: p, c: await classify(input, p, ctx) }),
    (done, total) => input.onProgress?.('dry-run', done, total),
  );
  const errors = checked.flatMap((c) => rejection(c, input.settings) ?? []);
  if (errors.length > 0) throw CommitRejectedError.of(errors, input.commit, written);
  return checked;
}

async function writeOne(input: Run, { planned: p, c }: Checked): Promise<ApplyResult> {
  const id = resolvedId(p);
  const base = { id, source: p.manifest.source, fields: [], conflicts: [] };
  if (c.kind === 'ignored') return { ...base, status: 'skipped', message: IGNORED_REASON };
  if (c.kind === 'create-only') return { ...base, status: 'skipped', message: CREATE_ONLY_REASON };
  if (c.kind === 'foreign') return { ...base, status: 'conflict', message: c.error.message, error: c.error };
  if (c.kind !== 'immutable' && c.kind !== 'evaluated') throw new Error(`unchecked object ${id.name}`);
  try {
    if (c.kind === 'immutable') {
      await input.keeper.beforeWrite();
      await deleteObject(input.client, c.info, p.namespace, id.name, { uid: c.live.metadata.uid as string });
      await waitForDeletion(input.client, c.info, p.namespace, id.name);
      await applyObject(input.client, c.info, p.object, { force: true });
      return { ...base, status: 'configured', message: 'recreated: an immutable field changed' };
    }
    const e = c.evaluation;
    const force = input.settings.conflicts === 'force';
    const object = objectToApply(e, force);
    // Without stripped fields, the evaluation already knows; else dry-run what would be sent.
    const same =
      object === p.object
        ? e.same
        : sameAsLive(e.live, await applyObject(input.client, e.info, object, { dryRun: true, force: true }));
    const fields = e.drift.filter((f) => !e.conflicts.includes(f) || force);
    const managers = [...new Set(e.conflicts.flatMap((f) => f.owners.map((o) => o.manager)))].filter(
      (m) => m !== FIELD_MANAGER,
    );
    const note = e.conflicts.length
      ? force
        ? `took over ${e.conflicts.length} field(s) from ${managers.join(', ')} (conflict policy: force)`
        : `left ${e.conflicts.length} field(s) to ${managers.join(', ')} (conflict policy: report)`
      : undefined;
    const conflict = e.conflicts.length > 0 && !force;
    const result = { ...base, conflicts: e.conflicts, ...(note ? { message: note } : {}) };
    if (same) return { ...result, status: conflict ? 'conflict' : 'unchanged' };
    await input.keeper.beforeWrite();
    const applied = await applyObject(input.client, e.info, object, { force: true });
    if (object === p.object) rememberApplied(input.dryRuns, p, applied);
    failpoint('after-apply-object');
    return { ...result, status: conflict ? 'conflict' : e.live ? 'configured' : 'created', fields };
  } catch (err) {
    if (!(err instanceof ApiStatusError)) throw err;
    if (input.mask) maskError(err, input.mask);
    const error = refusalOf(id, p.manifest.source, err);
    return { ...base, status: 'failed', message: error.message, error };
  }
}

async function write(input: Run, items: Checked[]): Promise<ApplyResult[]> {
  const results: ApplyResult[] = [];
  // Waves run one after the other; objects within a wave run concurrently.
  const key = (c: Checked) => `${c.planned.stage}/${c.planned.wave}`;
  const waves = [...new Set(items.map(key))];
  for (const [i, wave] of waves.entries()) {
    const batch = items.filter((c) => key(c) === wave);
    const record = async (c: Checked) => {
      const r = await writeOne(input, c);
      if (r.status !== 'unchanged' && r.status !== 'skipped') input.done.push(r);
      return r;
    };
    const written = await mapConcurrent(batch, input.concurrency ?? 8, record, (done, total) =>
      input.onProgress?.('apply', done, total),
    );
    results.push(...written);
    // A wave followed by a higher one must be healthy first, as Argo CD's sync waves.
    const next = items.find((c) => key(c) === waves[i + 1]);
    const failed = written.some((r) => r.status === 'failed');
    if (next && next.planned.wave > batch[0]!.planned.wave && !failed)
      await waitForWave(input, batch, batch[0]!.planned.wave);
    // Sync hooks run in their wave, with the app's namespaced objects (the last stage).
    const stage = batch[0]!.planned.stage;
    if (input.syncHooks && !failed && (stage === 'namespaced' || (!next && stage !== 'definitions')))
      await input.syncHooks(batch[0]!.planned.wave);
  }
  return results;
}

async function waitForWave(input: Run, batch: Checked[], wave: number): Promise<void> {
  const objects = batch.filter((c) => applyPolicy(c.planned) !== 'ignore').map((c) => c.planned);
  const timeoutMs = input.settings.waveTimeoutMs ?? DEFAULT_WAVE_TIMEOUT_MS;
  const w = await waitHealthy(input, objects, {
    timeoutMs,
    onProgress: (current, total) => input.onProgress?.(`wave ${wave} healthy`, current, total),
  });
  if (w.status === 'Current') return;
  const why = w.objects
    .filter((o) => o.health.status !== 'Current')
    .map(
      (o) =>
        `${formatId(o.id)} ${o.health.status}${o.health.reason ? ` ${o.health.reason}` : ''} (${o.health.message})`,
    )
    .join('; ');
  throw new WaveNotHealthyError(wave, why, w.timedOut);
}

/** What the commit will write, as far as the dry-runs so far tell (objects deferred to after their CRD or Namespace included). */
function plannedWrites(checked: Checked[], deferred: PlannedObject[], prunes: Orphan[]): PlannedWrite[] {
  const out: PlannedWrite[] = [];
  for (const { planned, c } of checked) {
    if (c.kind === 'immutable') out.push({ id: resolvedId(planned), action: 'apply', fields: [] });
    if (c.kind === 'evaluated' && !c.evaluation.same)
      out.push({
        id: resolvedId(planned),
        action: 'apply',
        fields: c.evaluation.live ? c.evaluation.drift : [],
      });
  }
  for (const p of deferred) out.push({ id: resolvedId(p), action: 'apply', fields: [] });
  for (const o of prunes) out.push({ id: o.id, action: 'prune', fields: [] });
  return out;
}

async function prune(
  input: Run,
  previous: Inventory | undefined,
): Promise<{ results: ApplyResult[]; keep: ObjectId[] }> {
  const results: ApplyResult[] = [];
  const deletable: { id: ObjectId; uid: string }[] = [];
  for (const orphan of await findOrphans(input, previous, input.plan, {
    name: input.app,
    source: input.source,
  })) {
    const kept = keptReason(orphan);
    if (kept) results.push({ id: orphan.id, fields: [], conflicts: [], status: 'skipped', message: kept });
    else deletable.push({ id: orphan.id, uid: orphan.live.metadata.uid as string });
  }
  if (!input.settings.prune) return { results: [], keep: deletable.map((d) => d.id) };
  checkPruneGuard(deletable.length, previous?.entries.length ?? 0, input.settings.allowMassPrune, input.app);
  for (const { id, uid } of deletable) {
    const info = (await input.discovery.lookup(id.group, id.version, id.kind))!;
    await input.keeper.beforeWrite('prune');
    await deleteObject(input.client, info, id.namespace, id.name, { uid });
    failpoint('after-prune-object');
    const r: ApplyResult = { id, fields: [], conflicts: [], status: 'pruned' };
    results.push(r);
    input.done.push(r);
  }
  return { results, keep: [] };
}

export async function applyCommit(input: ApplyInput): Promise<ApplyOutcome> {
  const missing = await missingNamespaces(input, input.plan);
  const deferred = (p: PlannedObject) => p.definedByCommit || (p.namespaced && missing.has(p.namespace));
  const previous = await readInventory(input, input.app, input.namespace);
  const now = await check(
    input,
    input.plan.filter((p) => !deferred(p)),
    false,
  );
  // What prune would delete is named in the intent too, so a prune cut short is recorded.
  const prunes = input.settings.prune
    ? (await findOrphans(input, previous, input.plan, { name: input.app, source: input.source })).filter(
        (o) => !keptReason(o),
      )
    : [];
  const run: Run = {
    ...input,
    done: [],
    keeper: new GateKeeper(input.gate ?? OPEN_GATE, () =>
      plannedWrites(now, input.plan.filter(deferred), prunes),
    ),
  };
  try {
    return await applyWithHooks(run, now, deferred, previous);
  } catch (e) {
    // Once writing has begun, what was written must reach the record whatever stopped it.
    if (run.keeper.opened) throw new ApplyInterruptedError(run.done, e);
    throw e;
  }
}

const reasonOf = (r: HookResult) => (r.outcome === 'timed-out' ? `timed out (${r.message})` : r.message);

/** A hook's result as sync prints it and the audit log records it. */
function hookResult(h: HookResult): ApplyResult {
  const deleted = h.deleted
    ? `; deleted (${h.outcome === 'succeeded' ? 'hook-succeeded' : 'hook-failed'})`
    : '';
  const message = `${h.phase} hook ${h.outcome}: ${h.message}${deleted}`;
  const base = {
    id: h.id,
    source: h.hook.manifest.source,
    fields: [],
    conflicts: [],
    message,
    hook: { phase: h.phase, outcome: h.outcome, deleted: h.deleted },
  };
  if (h.outcome === 'succeeded') return { ...base, status: 'created' };
  return { ...base, status: 'failed', error: new ObjectRejectedError(h.id, h.hook.manifest.source, message) };
}

/**
 * The apply between the commit's hooks (src/sync/hooks.ts, syncWithHooks): pre-sync hooks
 * after every dry-run passed and before the first object is written, sync hooks after the
 * app's objects, post-sync hooks once those are healthy, sync-fail hooks after a failure.
 */
async function applyWithHooks(
  input: Run,
  now: Checked[],
  deferred: (p: PlannedObject) => boolean,
  previous: Awaited<ReturnType<typeof readInventory>>,
): Promise<ApplyOutcome> {
  const hooks = input.hooks ?? [];
  const timeoutMs = input.settings.waveTimeoutMs ?? DEFAULT_WAVE_TIMEOUT_MS;
  const ran: { phase: HookPhase; raw: HookResult[]; results: ApplyResult[] }[] = [];
  let outcome: ApplyOutcome | undefined;
  const runsHooks = hooks.length > 0 && previous?.commit !== input.commit;
  /** Sync hooks not run yet (those of a wave are run with it, the rest after every wave). */
  const pending = new Set(hooks.filter((h) => h.phase === 'sync'));
  const run = async (phase: HookPhase, of: readonly PlannedHook[]) => {
    const results = await runHooks({
      ...input,
      hooks: of,
      phase,
      timeoutMs,
      beforeWrite: () => input.keeper.beforeWrite(),
    });
    const applied = results.map(hookResult);
    input.done.push(...applied);
    ran.push({ phase, raw: results, results: applied });
    return results;
  };
  if (runsHooks && pending.size > 0)
    input.syncHooks = async (wave) => {
      const due = [...pending].filter((h) => h.wave <= wave);
      due.forEach((h) => pending.delete(h));
      if (due.length === 0) return;
      const failed = (await run('sync', due)).find((r) => r.outcome !== 'succeeded');
      if (failed)
        throw new HookFailedError(
          'sync',
          formatId(failed.id),
          reasonOf(failed),
          'later waves were not applied',
        );
    };
  const result = await syncWithHooks(runsHooks, {
    has: (phase) => (phase === 'sync' ? pending.size > 0 : hooks.some((h) => h.phase === phase)),
    hooks: async (phase) => {
      const results = await run(phase, phase === 'sync' ? [...pending] : hooks);
      if (phase === 'sync') pending.clear();
      return results.every((r) => r.outcome === 'succeeded');
    },
    apply: async () => {
      outcome = await applyChecked(input, now, deferred, previous);
      return !outcome.results.some((r) => r.status === 'failed');
    },
    settle: async () => {
      const objects = input.plan.filter((p) => applyPolicy(p) !== 'ignore');
      const w = await waitHealthy(input, objects, {
        timeoutMs,
        onProgress: (current, total) => input.onProgress?.('healthy before post-sync hooks', current, total),
      });
      if (w.status === 'Current') return;
      const why = w.objects
        .filter((o) => o.health.status !== 'Current')
        .map((o) => `${formatId(o.id)} ${o.health.status} (${o.health.message})`)
        .join('; ');
      throw new WaveNotHealthyError(
        Math.max(0, ...objects.map((p) => p.wave)),
        `${why}; post-sync hooks were not run`,
        w.timedOut,
      );
    },
  });
  const of = (phase: HookPhase) => ran.filter((r) => r.phase === phase).flatMap((r) => r.results);
  if (result === 'pre-sync-failed') {
    const failed = ran
      .flatMap((r) => (r.phase === 'pre-sync' ? r.raw : []))
      .find((r) => r.outcome !== 'succeeded')!;
    throw new HookFailedError('pre-sync', formatId(failed.id), reasonOf(failed));
  }
  const o = outcome!;
  return {
    ...o,
    results: [...of('pre-sync'), ...o.results, ...of('sync'), ...of('post-sync'), ...of('sync-fail')],
  };
}

async function applyChecked(
  input: Run,
  now: Checked[],
  deferred: (p: PlannedObject) => boolean,
  previous: Awaited<ReturnType<typeof readInventory>>,
): Promise<ApplyOutcome> {
  const { plan, client, discovery } = input;
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
      // Objects refused as another app's are not this app's to remember (nor ever to prune).
      entries: [
        ...rest
          .concat(now)
          .filter((c) => c.c.kind !== 'foreign')
          .map((c) => resolvedId(c.planned)),
        ...pruned.keep,
      ],
    },
    previous,
    () => input.keeper.beforeWrite('inventory'),
  );
  if (inventoryWritten) failpoint('after-inventory');
  return { results, inventoryWritten, previousCommit: previous?.commit };
}
