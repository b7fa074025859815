/**
 * Rules that hold for every kind, checked before the kind's own rules (kstatus' order):
 * 1. a deletionTimestamp makes the object Terminating;
 * 2. a status.observedGeneration that differs from metadata.generation means the controller
 *    has not seen the latest spec: InProgress (objects without observedGeneration skip this);
 * 3. the standard abnormal-true conditions decide alone when set: Reconciling=True is
 *    InProgress, Stalled=True is Failed, each with the condition's reason and message.
 * Returns undefined when none applies.
 */
import { conditions, int, optInt, str, type Obj } from './read.ts';
import { failed, inProgress, type Health } from './types.ts';

export function genericHealth(obj: Obj, kind: string): Health | undefined {
  if (str(obj, 'metadata.deletionTimestamp') !== '')
    return { status: 'Terminating', reason: 'Deleting', message: `${kind} is being deleted` };

  const generation = optInt(obj, 'metadata.generation');
  const observed = optInt(obj, 'status.observedGeneration');
  if (generation !== undefined && observed !== undefined && generation !== observed)
    return notObserved(kind, generation, observed);

  for (const c of conditions(obj)) {
    if (c.status !== 'True') continue;
    if (c.type === 'Reconciling')
      return inProgress(c.reason ?? 'Reconciling', c.message ?? `${kind} is reconciling`);
    if (c.type === 'Stalled') return failed(c.reason ?? 'Stalled', c.message ?? `${kind} is stalled`);
  }
  return undefined;
}

export function notObserved(kind: string, generation: number, observed: number): Health {
  return inProgress(
    'LatestGenerationNotObserved',
    `${kind} generation ${generation} not observed yet (controller saw ${observed})`,
  );
}

/**
 * For kinds whose controller always writes observedGeneration (DaemonSet): its absence means the
 * controller has not looked at the object yet.
 */
export function requireObserved(obj: Obj, kind: string): Health | undefined {
  if (optInt(obj, 'metadata.generation') === undefined)
    return inProgress('NoGeneration', `${kind} has no metadata.generation yet`);
  if (optInt(obj, 'status.observedGeneration') === undefined)
    return inProgress('NoObservedGeneration', `${kind} not observed by its controller yet`);
  return undefined;
}

/** `spec.replicas` as the workload controllers read it: 1 when unset. */
export function specReplicas(obj: Obj): number {
  return int(obj, 'spec.replicas', 1);
}
