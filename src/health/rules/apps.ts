/**
 * apps/v1 workloads (and their old extensions/v1beta1 names): Deployment, StatefulSet,
 * DaemonSet, ReplicaSet. Counts come from the controllers' status; kstatus' order of checks.
 */
import { specReplicas, requireObserved } from '../generic.ts';
import { condition, conditions, int, isTrue, optInt, str, type Obj } from '../read.ts';
import { current, failed, inProgress, type Health } from '../types.ts';
import { firstShortfall } from './replicas.ts';

/** The controller's "no deadline" value for spec.progressDeadlineSeconds. */
const NO_DEADLINE = 2 ** 31 - 1;

export function deploymentHealth(obj: Obj): Health {
  const conds = conditions(obj);
  const progressing = condition(conds, 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded')
    return failed(progressing.reason, progressing.message ?? 'Deployment exceeded its progress deadline');

  const want = specReplicas(obj);
  const replicas = int(obj, 'status.replicas', 0);
  const updated = int(obj, 'status.updatedReplicas', 0);
  const ready = int(obj, 'status.readyReplicas', 0);
  const available = int(obj, 'status.availableReplicas', 0);
  const short = firstShortfall([
    [want > replicas, 'LessReplicas', `${replicas} of ${want} replicas exist`],
    [want > updated, 'LessUpdated', `${updated} of ${want} replicas run the new template`],
    [replicas > want, 'ExtraPods', `old replicas still terminating: ${replicas - want}`],
    [updated > available, 'LessAvailable', `${available} of ${updated} updated replicas available`],
    [want > ready, 'LessReady', `${ready} of ${want} replicas ready`],
  ]);
  if (short) return short;

  // Without a deadline the controller never writes Progressing, so there is nothing to wait for.
  const deadline = optInt(obj, 'spec.progressDeadlineSeconds') ?? NO_DEADLINE;
  const rolledOut = progressing?.status === 'True' && progressing.reason === 'NewReplicaSetAvailable';
  if (deadline !== NO_DEADLINE && !rolledOut)
    return inProgress('ReplicaSetNotAvailable', progressing?.message ?? 'new ReplicaSet not available yet');
  if (!isTrue(conds, 'Available'))
    return inProgress(
      'DeploymentNotAvailable',
      condition(conds, 'Available')?.message ?? 'Deployment not available yet',
    );
  return current(`Deployment available with ${replicas} replicas`);
}

export function statefulSetHealth(obj: Obj): Health {
  if (str(obj, 'spec.updateStrategy.type') === 'OnDelete')
    return current('StatefulSet uses the OnDelete update strategy: pods are replaced by hand', 'OnDelete');

  const want = specReplicas(obj);
  const replicas = int(obj, 'status.replicas', 0);
  const ready = int(obj, 'status.readyReplicas', 0);
  const updated = int(obj, 'status.updatedReplicas', 0);
  const short = firstShortfall([
    [want > replicas, 'LessReplicas', `${replicas} of ${want} replicas exist`],
    [want > ready, 'LessReady', `${ready} of ${want} replicas ready`],
    [replicas > want, 'ExtraPods', `extra replicas still terminating: ${replicas - want}`],
  ]);
  if (short) return short;

  // A partition above 0 stops the rollout at that ordinal on purpose: done once the pods above it
  // are updated. (The API server defaults the partition to 0, which is an ordinary rollout.)
  const partition = int(obj, 'spec.updateStrategy.rollingUpdate.partition', 0);
  if (partition > 0) {
    const target = Math.max(want - partition, 0);
    if (updated < target)
      return inProgress(
        'PartitionRollout',
        `${updated} of ${target} replicas above partition ${partition} updated`,
      );
    return current(
      `partitioned rollout done: ${updated} replicas updated, partition ${partition}`,
      'Partitioned',
    );
  }

  const currentReplicas = int(obj, 'status.currentReplicas', 0);
  const currentRevision = str(obj, 'status.currentRevision');
  const updateRevision = str(obj, 'status.updateRevision');
  return (
    firstShortfall([
      [want > updated, 'LessUpdated', `${updated} of ${want} replicas updated`],
      [
        want > currentReplicas,
        'LessCurrent',
        `${currentReplicas} of ${want} replicas at the current revision`,
      ],
      [
        currentRevision !== updateRevision,
        'RevisionMismatch',
        `rolling from revision ${currentRevision} to ${updateRevision}`,
      ],
    ]) ?? current(`StatefulSet ready with ${replicas} replicas`)
  );
}

export function daemonSetHealth(obj: Obj): Health {
  const unobserved = requireObserved(obj, 'DaemonSet');
  if (unobserved) return unobserved;
  const desired = optInt(obj, 'status.desiredNumberScheduled');
  if (desired === undefined)
    return inProgress('NoDesiredNumber', 'DaemonSet has no desiredNumberScheduled yet');
  const scheduled = int(obj, 'status.currentNumberScheduled', 0);
  const updated = int(obj, 'status.updatedNumberScheduled', 0);
  const available = int(obj, 'status.numberAvailable', 0);
  const ready = int(obj, 'status.numberReady', 0);
  return (
    firstShortfall([
      [desired > scheduled, 'LessCurrent', `${scheduled} of ${desired} nodes run a daemon pod`],
      [desired > updated, 'LessUpdated', `${updated} of ${desired} daemon pods updated`],
      [desired > available, 'LessAvailable', `${available} of ${desired} daemon pods available`],
      [desired > ready, 'LessReady', `${ready} of ${desired} daemon pods ready`],
    ]) ?? current(`DaemonSet ready on ${desired} nodes`)
  );
}

export function replicaSetHealth(obj: Obj): Health {
  const replicaFailure = condition(conditions(obj), 'ReplicaFailure');
  // kstatus keeps this InProgress: the controller retries pod creation (quota, admission).
  if (replicaFailure?.status === 'True')
    return inProgress(
      replicaFailure.reason ?? 'ReplicaFailure',
      replicaFailure.message ?? 'pods cannot be created',
    );

  const want = specReplicas(obj);
  const replicas = int(obj, 'status.replicas', 0);
  const labeled = int(obj, 'status.fullyLabeledReplicas', 0);
  const available = int(obj, 'status.availableReplicas', 0);
  const ready = int(obj, 'status.readyReplicas', 0);
  return (
    firstShortfall([
      [want > labeled, 'LessLabelled', `${labeled} of ${want} replicas fully labelled`],
      [want > available, 'LessAvailable', `${available} of ${want} replicas available`],
      [want > ready, 'LessReady', `${ready} of ${want} replicas ready`],
      [replicas > want, 'ExtraPods', `extra replicas still terminating: ${replicas - want}`],
    ]) ?? current(`ReplicaSet available with ${replicas} replicas`)
  );
}
