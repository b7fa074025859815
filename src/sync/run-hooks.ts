/**
 * Running one phase of sync hooks (src/sync/hooks.ts): for each hook, delete the one a
 * previous sync left (before-hook-creation), create it (POST: a generateName hook gets its
 * name from the server), wait until it succeeded or failed (or the wave timeout passed), then
 * delete it by its policy. Hooks are labelled as the app's objects but are never in its
 * inventory: prune does not see them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { FIELD_MANAGER } from '../contract.ts';
import type { KubeObject } from '../cluster/apply.ts';
import { deleteObject } from '../cluster/delete.ts';
import { resourcePath, type ResourceInfo } from '../cluster/discovery.ts';
import { ApiStatusError } from '../cluster/errors.ts';
import { getObject } from '../cluster/get.ts';
import { waitForDeletion } from '../cluster/wait.ts';
import { maskError, type ObjectId } from '../manifests/index.ts';
import { mapConcurrent } from '../util/concurrency.ts';
import { deleteAfter, type HookOutcome, type HookPhase } from './hooks.ts';
import type { Connection } from './pipeline.ts';
import type { PlannedHook } from './plan.ts';

export interface HookResult {
  hook: PlannedHook;
  phase: HookPhase;
  /** The hook as created (a generateName hook: the name the server gave it). */
  id: ObjectId;
  outcome: HookOutcome;
  message: string;
  /** Deleted after it finished, by its delete policy. */
  deleted: boolean;
}

export interface HookRun extends Connection {
  hooks: readonly PlannedHook[];
  phase: HookPhase;
  timeoutMs: number;
  /** Before each write (the audit log's intent record, fencing). */
  beforeWrite: () => Promise<void>;
  /** Between two reads of a running hook; default 1 s. */
  intervalMs?: number;
}

type Settled = { outcome: HookOutcome; message: string };

/** Whether a hook finished: a Job Complete or Failed, a Pod Succeeded or Failed. */
export function hookState(live: KubeObject | undefined): Settled | undefined {
  if (!live) return { outcome: 'failed', message: 'deleted while it ran' };
  const status = (live.status ?? {}) as {
    phase?: string;
    message?: string;
    reason?: string;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
  };
  if (live.kind === 'Pod') {
    if (status.phase === 'Succeeded') return { outcome: 'succeeded', message: 'Pod succeeded' };
    if (status.phase === 'Failed')
      return {
        outcome: 'failed',
        message: `Pod failed${status.reason ? `: ${status.reason}` : ''}${status.message ? ` (${status.message})` : ''}`,
      };
    return undefined;
  }
  const cond = (type: string) => status.conditions?.find((c) => c.type === type && c.status === 'True');
  const complete = cond('Complete');
  if (complete) return { outcome: 'succeeded', message: 'Job complete' };
  const failed = cond('Failed');
  if (failed)
    return {
      outcome: 'failed',
      message: `Job failed${failed.reason ? `: ${failed.reason}` : ''}${failed.message ? ` (${failed.message})` : ''}`,
    };
  return undefined;
}

async function runOne(run: HookRun, hook: PlannedHook): Promise<HookResult> {
  const { group, version, kind } = hook.manifest.id;
  const base = { group, version, kind, namespace: hook.namespace };
  const fail = (name: string, message: string): HookResult => ({
    hook,
    phase: run.phase,
    id: { ...base, name },
    outcome: 'failed',
    message,
    deleted: false,
  });
  const info = await run.discovery.lookup(group, version, kind);
  if (!info) return fail(hook.manifest.id.name, `the cluster does not serve ${kind}`);
  try {
    if (!hook.generated && hook.deletePolicies.includes('before-hook-creation')) {
      await run.beforeWrite();
      if (
        await deleteObject(run.client, info, hook.namespace, hook.manifest.id.name, {
          propagation: 'Foreground',
        })
      )
        await waitForDeletion(run.client, info, hook.namespace, hook.manifest.id.name, run.timeoutMs);
    }
    await run.beforeWrite();
    const created = await run.client.request<KubeObject>({
      method: 'POST',
      path: resourcePath(info, hook.namespace),
      query: { fieldManager: FIELD_MANAGER, fieldValidation: 'Strict' },
      body: hook.object,
    });
    const name = created.metadata.name;
    const settled = await waitSettled(run, info, hook.namespace, name, created.metadata.uid as string);
    const deleted = deleteAfter(hook.deletePolicies, settled.outcome)
      ? (await run.beforeWrite(),
        await deleteObject(run.client, info, hook.namespace, name, { propagation: 'Background' }))
      : false;
    return { hook, phase: run.phase, id: { ...base, name }, ...settled, deleted };
  } catch (e) {
    if (!(e instanceof ApiStatusError)) throw e;
    if (run.mask) maskError(e, run.mask);
    return fail(hook.manifest.id.name, e.message);
  }
}

async function waitSettled(
  run: HookRun,
  info: ResourceInfo,
  namespace: string,
  name: string,
  uid: string,
): Promise<Settled> {
  const deadline = Date.now() + run.timeoutMs;
  for (;;) {
    const live = await getObject(run.client, info, namespace, name);
    const state = hookState(live && live.metadata.uid === uid ? live : undefined);
    if (state) return state;
    if (Date.now() >= deadline)
      return { outcome: 'timed-out', message: `not finished within ${Math.round(run.timeoutMs / 1000)}s` };
    await sleep(run.intervalMs ?? 1000);
  }
}

/** Runs the hooks of the phase, all at once; results in the hooks' order. */
export async function runHooks(run: HookRun): Promise<HookResult[]> {
  const hooks = run.hooks.filter((h) => h.phase === run.phase);
  return mapConcurrent(hooks, 8, (h) => runOne(run, h));
}
