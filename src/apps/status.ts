/**
 * An App resource's status from what the agent knows of the app, pure. The conditions follow
 * kstatus (Ready, Reconciling, Stalled), so `kubectl wait --for=condition=Ready`, Flux-style
 * tooling and Tether's own health checks (an app-of-apps waiting for its child Apps) read
 * them; Synced and Healthy split Ready into its two halves. A condition keeps its
 * lastTransitionTime until its status changes.
 */
import type { AppStatus } from '../agent/app-runner.ts';
import { canonicalJson } from '../manifests/canonical.ts';
import type { AppResource, AppResourceStatus, Condition } from './resource.ts';

/** Why the app does not run: its spec is refused, or another app has its name. */
export interface AppProblem {
  reason: 'InvalidSpec' | 'NameClash' | 'SecretError';
  message: string;
}

export interface StatusInput {
  resource: AppResource;
  /** The running app's status; undefined when it does not run (problem, or not started yet). */
  app?: AppStatus;
  problem?: AppProblem;
  /** The reconcile-requested-at annotation's value the agent acted on last. */
  handledReconcileAt?: string;
  now: string;
}

type Cond = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

const MAX_MESSAGE = 1024;

function clip(message: string): string {
  return message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message;
}

function conditionsOf(app: AppStatus | undefined, problem: AppProblem | undefined): Cond[] {
  if (problem)
    return [
      { type: 'Ready', status: 'False', reason: problem.reason, message: problem.message },
      { type: 'Stalled', status: 'True', reason: problem.reason, message: problem.message },
      {
        type: 'Reconciling',
        status: 'False',
        reason: problem.reason,
        message: 'not reconciled until the App is fixed',
      },
    ];
  if (!app || app.state === 'pending')
    return [
      { type: 'Ready', status: 'Unknown', reason: 'Progressing', message: 'first reconcile under way' },
      { type: 'Reconciling', status: 'True', reason: 'Progressing', message: 'first reconcile under way' },
    ];
  if (app.state === 'suspended')
    return [
      {
        type: 'Ready',
        status: 'Unknown',
        reason: 'Suspended',
        message: 'spec.suspend is true: not reconciled',
      },
      { type: 'Reconciling', status: 'False', reason: 'Suspended', message: 'spec.suspend is true' },
    ];
  const commit = (app.mode === 'apply' ? app.lastAppliedCommit : app.lastSeenCommit)?.slice(0, 12) ?? 'none';
  const synced: Cond =
    app.state === 'in-sync'
      ? { type: 'Synced', status: 'True', reason: 'InSync', message: `the cluster matches commit ${commit}` }
      : app.state === 'drifted'
        ? {
            type: 'Synced',
            status: 'False',
            reason: 'Drifted',
            message: `${app.driftedObjects} object(s) differ from commit ${commit}`,
          }
        : app.state === 'conflict'
          ? {
              type: 'Synced',
              status: 'False',
              reason: 'Conflict',
              message: app.lastError ?? 'another applier owns fields Git sets',
            }
          : {
              type: 'Synced',
              status: 'False',
              reason: app.state === 'degraded' ? 'Degraded' : 'ReconcileFailed',
              message: app.lastError ?? app.state,
            };
  const health = app.health;
  const healthy: Cond =
    health === 'Current'
      ? { type: 'Healthy', status: 'True', reason: 'Current', message: 'every object is Current' }
      : health === null
        ? { type: 'Healthy', status: 'Unknown', reason: 'NotJudged', message: 'health not judged yet' }
        : {
            type: 'Healthy',
            status: health === 'InProgress' || health === 'Unknown' ? 'Unknown' : 'False',
            reason: health,
            message:
              app.unhealthy
                .slice(0, 5)
                .map((o) => `${o.kind}/${o.name} ${o.status}: ${o.message}`)
                .join('; ') || health,
          };
  const progressing = health === 'InProgress';
  const ready: Cond =
    synced.status === 'True' && healthy.status === 'True'
      ? {
          type: 'Ready',
          status: 'True',
          reason: 'Succeeded',
          message: `commit ${commit} is applied and healthy`,
        }
      : synced.status !== 'True'
        ? { type: 'Ready', status: 'False', reason: synced.reason, message: synced.message }
        : {
            type: 'Ready',
            status: progressing ? 'Unknown' : 'False',
            reason: progressing ? 'Progressing' : healthy.reason,
            message: healthy.message,
          };
  // Stalled: an error that the next reconcile will not fix on its own (a refused commit).
  const refused = app.errors.includes('commit');
  return [
    ready,
    synced,
    healthy,
    {
      type: 'Reconciling',
      status: progressing ? 'True' : 'False',
      reason: progressing ? 'Progressing' : 'Idle',
      message: progressing ? 'waiting for objects to become Current' : 'reconciled',
    },
    ...(refused
      ? [
          {
            type: 'Stalled',
            status: 'True' as const,
            reason: 'CommitRefused',
            message: app.lastError ?? 'the newest commit is refused',
          },
        ]
      : []),
  ];
}

/** The status to write; conditions keep their transition times while their status holds. */
export function appResourceStatus(input: StatusInput): AppResourceStatus {
  const { resource, app, problem, now, handledReconcileAt } = input;
  const generation = resource.metadata.generation ?? 0;
  const previous = new Map((resource.status?.conditions ?? []).map((c) => [c.type, c]));
  const conditions = conditionsOf(app, problem).map((c): Condition => {
    const before = previous.get(c.type);
    return {
      ...c,
      message: clip(c.message),
      observedGeneration: generation,
      lastTransitionTime: before && before.status === c.status ? before.lastTransitionTime : now,
    };
  });
  const inForce = app ? (app.mode === 'apply' ? app.lastAppliedCommit : app.lastSeenCommit) : null;
  const state = problem ? 'error' : (app?.state ?? 'pending');
  return {
    observedGeneration: generation,
    conditions,
    state,
    ...(app?.health ? { health: app.health } : {}),
    ...(inForce ? { commit: inForce.slice(0, 12) } : {}),
    ...(app?.lastAppliedCommit ? { lastAppliedCommit: app.lastAppliedCommit } : {}),
    ...(app?.lastSeenCommit ? { lastSeenCommit: app.lastSeenCommit } : {}),
    driftedObjects: app?.driftedObjects ?? 0,
    ...((problem?.message ?? app?.lastError) ? { lastError: clip(problem?.message ?? app!.lastError!) } : {}),
    ...(app?.lastReconcileAt ? { lastReconcileAt: app.lastReconcileAt } : {}),
    ...(handledReconcileAt ? { lastHandledReconcileAt: handledReconcileAt } : {}),
    ...(app ? { mode: app.mode } : {}),
  };
}

/**
 * Whether a new status says something the written one does not. lastReconcileAt alone does
 * not count: an idle tick writes nothing (DESIGN.md, point 4).
 */
export function statusChanged(written: AppResourceStatus | undefined, next: AppResourceStatus): boolean {
  if (!written) return true;
  const strip = (s: AppResourceStatus) => {
    const { lastReconcileAt: _, ...rest } = s;
    return canonicalJson(rest);
  };
  return strip(written) !== strip(next);
}
