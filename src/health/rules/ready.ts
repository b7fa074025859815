/**
 * Any other kind (custom resources): after the generic rules, a Ready condition decides.
 * True is Current; False or Unknown is InProgress with its reason (controllers that give up say
 * so with Stalled=True, which the generic rules already turned into Failed). A Ready condition
 * that records an older observedGeneration than the object's generation is stale: InProgress.
 * Without a Ready condition the object is Current (kstatus: no known conditions, nothing to wait for).
 */
import { condition, conditions, optInt, type Obj } from '../read.ts';
import { current, inProgress, type Health } from '../types.ts';

export function readyConditionHealth(obj: Obj, kind: string): Health {
  const ready = condition(conditions(obj), 'Ready');
  if (ready === undefined) return current(`${kind} has no status rules and no Ready condition`);
  const generation = optInt(obj, 'metadata.generation');
  if (
    ready.observedGeneration !== undefined &&
    generation !== undefined &&
    ready.observedGeneration !== generation
  )
    return inProgress(
      'ReadyStale',
      `${kind} Ready condition is for generation ${ready.observedGeneration}, not ${generation}`,
    );
  if (ready.status === 'True') return current(ready.message ?? `${kind} is ready`, ready.reason);
  return inProgress(
    ready.reason ?? 'NotReady',
    ready.message ?? `${kind} is not ready (Ready=${ready.status})`,
  );
}
