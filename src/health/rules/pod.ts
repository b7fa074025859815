/**
 * v1 Pod, after kstatus with two deliberate differences:
 * - phase Failed is Failed (kstatus: Current, "completed, but not successfully"), so that a hook
 *   pod or a bare pod that exited with an error fails the sync instead of passing it;
 * - a CrashLoopBackOff in an init container counts too (the pod then stays Pending forever).
 * A pod the scheduler cannot place is InProgress with the scheduler's message; with a clock
 * (`now`) it turns Failed 15 s after creation, as in kstatus.
 */
import { condition, conditions, list, optInt, str, type Condition, type Obj } from '../read.ts';
import { current, failed, inProgress, Unjudgeable, type Health, type HealthOptions } from '../types.ts';

/** kstatus' grace period for scheduling before an unschedulable pod counts as Failed. */
export const SCHEDULE_WINDOW_MS = 15_000;

export function podHealth(obj: Obj, options: HealthOptions = {}): Health {
  const conds = conditions(obj);
  const phase = str(obj, 'status.phase');
  switch (phase) {
    case 'Succeeded':
      return current('Pod completed successfully', 'PodCompleted');
    case 'Failed':
      return failed(str(obj, 'status.reason') || 'PodFailed', str(obj, 'status.message') || exits(obj));
    case 'Running': {
      const ready = condition(conds, 'Ready');
      if (ready?.status === 'True') return current('Pod is ready');
      return (
        crashLooping(obj) ??
        inProgress('PodRunningNotReady', ready?.message ?? 'Pod is running but not ready')
      );
    }
    case 'Pending':
      return crashLooping(obj) ?? unscheduled(obj, conds, options) ?? pending(obj);
    case '':
      return inProgress('PodNotObserved', 'Pod has no phase yet');
    default:
      throw new Unjudgeable(`Pod phase ${phase}`);
  }
}

interface ContainerStatus {
  name: string;
  waiting?: { reason: string; message: string };
  terminated?: { reason: string; exitCode: number };
}

function containerStatuses(obj: Obj): ContainerStatus[] {
  return [...list(obj, 'status.initContainerStatuses'), ...list(obj, 'status.containerStatuses')].map(
    (cs) => {
      const out: ContainerStatus = { name: str(cs, 'name') };
      const waiting = str(cs, 'state.waiting.reason');
      if (waiting !== '') out.waiting = { reason: waiting, message: str(cs, 'state.waiting.message') };
      const exitCode = optInt(cs, 'state.terminated.exitCode');
      if (exitCode !== undefined) out.terminated = { reason: str(cs, 'state.terminated.reason'), exitCode };
      return out;
    },
  );
}

function crashLooping(obj: Obj): Health | undefined {
  const looping = containerStatuses(obj).filter((cs) => cs.waiting?.reason === 'CrashLoopBackOff');
  const first = looping[0];
  if (!first) return undefined;
  const names = looping.map((cs) => cs.name).join(', ');
  const detail = first.waiting?.message ? `: ${first.waiting.message}` : '';
  return failed('ContainerCrashLooping', `containers in CrashLoopBackOff: ${names}${detail}`);
}

function unscheduled(obj: Obj, conds: Condition[], { now }: HealthOptions): Health | undefined {
  const scheduled = condition(conds, 'PodScheduled');
  if (scheduled?.status !== 'False' || scheduled.reason !== 'Unschedulable') return undefined;
  const message = scheduled.message ?? 'Pod cannot be scheduled';
  const created = Date.parse(str(obj, 'metadata.creationTimestamp'));
  if (now !== undefined && !Number.isNaN(created) && now.getTime() - created > SCHEDULE_WINDOW_MS)
    return failed('PodUnschedulable', message);
  return inProgress('PodNotScheduled', message);
}

function pending(obj: Obj): Health {
  const waiting = containerStatuses(obj).find((cs) => cs.waiting);
  if (waiting?.waiting) {
    const { reason, message } = waiting.waiting;
    return inProgress(
      'PodPending',
      `container ${waiting.name} waiting: ${reason}${message ? `: ${message}` : ''}`,
    );
  }
  return inProgress('PodPending', 'Pod is pending');
}

function exits(obj: Obj): string {
  const ended = containerStatuses(obj).flatMap(({ name, terminated: t }) =>
    t && t.exitCode !== 0
      ? [`container ${name} exited with code ${t.exitCode} (${t.reason || 'no reason'})`]
      : [],
  );
  return ended.length > 0 ? ended.join('; ') : 'Pod failed';
}
