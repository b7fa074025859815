/**
 * batch/v1: Job and CronJob.
 *
 * Job, one deliberate difference from kstatus: kstatus calls a started Job Current while it
 * runs; here it is InProgress until its Complete condition, because sync waves and hooks wait
 * for a Job (a migration before the Deployment that needs it) to finish.
 */
import { conditions, int, optInt, str, type Obj } from '../read.ts';
import { current, failed, inProgress, type Health } from '../types.ts';

export function jobHealth(obj: Obj): Health {
  const parallelism = int(obj, 'spec.parallelism', 1);
  const completions = optInt(obj, 'spec.completions') ?? parallelism;
  const succeeded = int(obj, 'status.succeeded', 0);
  const active = int(obj, 'status.active', 0);
  const failedPods = int(obj, 'status.failed', 0);

  // Since Kubernetes 1.31 the controller writes FailureTarget (and SuccessCriteriaMet) first and
  // the final Failed (Complete) once the pods are gone; the outcome is known at the first.
  for (const c of conditions(obj)) {
    if (c.status !== 'True') continue;
    if (c.type === 'Failed' || c.type === 'FailureTarget')
      return failed(c.reason ?? 'JobFailed', c.message ?? `Job failed: ${failedPods} pods failed`);
    if (c.type === 'Complete')
      return current(`Job complete: ${succeeded} of ${completions} pods succeeded`, c.reason);
    if (c.type === 'Suspended') return current(c.message ?? 'Job is suspended', 'Suspended');
  }

  if (str(obj, 'status.startTime') === '') return inProgress('JobNotStarted', 'Job not started yet');
  return inProgress(
    'JobRunning',
    `Job running: ${succeeded} of ${completions} pods succeeded, ${active} active, ${failedPods} failed`,
  );
}

/** A CronJob has no rollout of its own: its Jobs are judged where they are applied. */
export function cronJobHealth(_obj: Obj): Health {
  return current('CronJob has no rollout: it is Current once applied');
}
