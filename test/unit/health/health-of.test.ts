import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { healthOf, SCHEDULE_WINDOW_MS, type Health } from '../../../src/health/index.ts';

type Obj = Record<string, unknown>;
type Case = [name: string, live: Obj | undefined, want: Health];

/** A fixture from test/fixtures/health (a fresh object on every call). */
function load(name: string): Obj {
  return parse(readFileSync(new URL(`../../fixtures/health/${name}.yaml`, import.meta.url), 'utf8')) as Obj;
}

/** A fixture with fields replaced by dotted path (`undefined` deletes the field). */
function edit(name: string, changes: Record<string, unknown>): Obj {
  const obj = load(name);
  for (const [path, value] of Object.entries(changes)) {
    const keys = path.split('.');
    const last = keys.pop() as string;
    let at = obj;
    for (const k of keys) at = (at[k] ??= {}) as Obj;
    if (value === undefined) delete at[last];
    else at[last] = value;
  }
  return obj;
}

const cur = (message: string, reason?: string): Health => ({ status: 'Current', message, reason });
const prog = (reason: string, message: string): Health => ({ status: 'InProgress', reason, message });
const fail = (reason: string, message: string): Health => ({ status: 'Failed', reason, message });

function check(cases: Case[]): void {
  it.each(cases)('%s', (_name, live, want) => {
    expect(healthOf(live)).toEqual(want);
  });
}

const deadline = 'ReplicaSet "web-7c5d8f6b9d" has timed out progressing.';
const scheduler =
  "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";

describe('healthOf: generic rules', () => {
  check([
    ['no live object is NotFound', undefined, { status: 'NotFound', message: 'object does not exist' }],
    [
      'a deletionTimestamp is Terminating (namespace, captured)',
      load('namespace-terminating'),
      { status: 'Terminating', reason: 'Deleting', message: 'Namespace is being deleted' },
    ],
    [
      'Terminating wins over everything else (PVC held by its finalizer, captured)',
      load('pvc-terminating'),
      { status: 'Terminating', reason: 'Deleting', message: 'PersistentVolumeClaim is being deleted' },
    ],
    [
      'a generation the controller has not observed is InProgress',
      edit('deployment-available', { 'metadata.generation': 3 }),
      prog('LatestGenerationNotObserved', 'Deployment generation 3 not observed yet (controller saw 2)'),
    ],
    [
      'Reconciling=True is InProgress with its reason and message',
      load('cr-kustomization-reconciling'),
      prog('ProgressingWithRetry', 'Reconciliation in progress'),
    ],
    [
      'Stalled=True is Failed with its reason and message',
      load('cr-helmrelease-stalled'),
      fail('RetriesExceeded', 'Failed to install after 1 attempt(s)'),
    ],
    [
      'Stalled=True on a built-in kind decides before its kind rule',
      edit('deployment-available', {
        'status.conditions': [{ type: 'Stalled', status: 'True', reason: 'Broken', message: 'it broke' }],
      }),
      fail('Broken', 'it broke'),
    ],
    [
      'Reconciling=False is ignored',
      edit('cr-kustomization-ready', {
        'status.conditions': [
          { type: 'Reconciling', status: 'False' },
          { type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded', message: 'Applied' },
        ],
      }),
      cur('Applied', 'ReconciliationSucceeded'),
    ],
  ]);
});

describe('healthOf: Unknown when the object cannot be judged', () => {
  const unknown = (message: string): Health => ({ status: 'Unknown', reason: 'Unjudgeable', message });
  check([
    [
      'no apiVersion and kind',
      { metadata: { name: 'x' } },
      unknown('the live object has no apiVersion and kind'),
    ],
    [
      'status is not an object',
      { apiVersion: 'v1', kind: 'Pod', status: 'Running' },
      unknown('Pod .status is not an object'),
    ],
    [
      'conditions is not a list',
      edit('cr-kustomization-ready', { 'status.conditions': { Ready: 'True' } }),
      unknown('Kustomization cannot be judged: .status.conditions is not a list of objects'),
    ],
    [
      'a condition without a status',
      edit('cr-kustomization-ready', { 'status.conditions': [{ type: 'Ready' }] }),
      unknown('Kustomization cannot be judged: .status.conditions[0] has no string type and status'),
    ],
    [
      'a count that is not an integer',
      edit('deployment-available', { 'status.readyReplicas': '3' }),
      unknown('Deployment cannot be judged: .status.readyReplicas is not an integer'),
    ],
    [
      'a pod phase no rule knows (the node stopped reporting)',
      edit('pod-running-ready', { 'status.phase': 'Unknown' }),
      unknown('Pod cannot be judged: Pod phase Unknown'),
    ],
  ]);

  it('a non-object input', () => {
    expect(healthOf([] as unknown as Obj).status).toBe('Unknown');
  });
});

describe('healthOf: Deployment', () => {
  check([
    ['rolled out and available', load('deployment-available'), cur('Deployment available with 3 replicas')],
    [
      'progress deadline exceeded is Failed with the condition reason and message',
      load('deployment-progress-deadline'),
      fail('ProgressDeadlineExceeded', deadline),
    ],
    [
      'just created, no status (captured)',
      load('deployment-created'),
      prog('LessReplicas', '0 of 3 replicas exist'),
    ],
    ['mid rollout', load('deployment-rollout'), prog('LessUpdated', '1 of 3 replicas run the new template')],
    [
      'old pods still terminating',
      edit('deployment-available', { 'status.replicas': 4 }),
      prog('ExtraPods', 'old replicas still terminating: 1'),
    ],
    [
      'ready but not yet available for minReadySeconds',
      load('deployment-min-ready'),
      prog('LessAvailable', '0 of 2 updated replicas available'),
    ],
    [
      'fewer ready than wanted',
      edit('deployment-available', { 'status.readyReplicas': 2 }),
      prog('LessReady', '2 of 3 replicas ready'),
    ],
    [
      'counts met, Progressing not yet NewReplicaSetAvailable',
      edit('deployment-rollout', {
        'status.replicas': 3,
        'status.updatedReplicas': 3,
        'status.readyReplicas': 3,
        'status.availableReplicas': 3,
      }),
      prog('ReplicaSetNotAvailable', 'ReplicaSet "web-7c5d8f6b9d" is progressing.'),
    ],
    [
      'counts met, Available=False',
      edit('deployment-available', {
        'status.conditions': [
          { type: 'Available', status: 'False', message: 'Deployment does not have minimum availability.' },
          { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
        ],
      }),
      prog('DeploymentNotAvailable', 'Deployment does not have minimum availability.'),
    ],
    [
      'no progress deadline: no Progressing condition to wait for',
      edit('deployment-available', {
        'spec.progressDeadlineSeconds': undefined,
        'status.conditions': [{ type: 'Available', status: 'True' }],
      }),
      cur('Deployment available with 3 replicas'),
    ],
    [
      'spec.replicas unset means 1',
      edit('deployment-created', { 'spec.replicas': undefined }),
      prog('LessReplicas', '0 of 1 replicas exist'),
    ],
  ]);
});

describe('healthOf: StatefulSet', () => {
  check([
    ['rolled out and ready', load('statefulset-ready'), cur('StatefulSet ready with 3 replicas')],
    ['just created (captured)', load('statefulset-created'), prog('LessReplicas', '0 of 3 replicas exist')],
    ['mid rolling update', load('statefulset-rollout'), prog('LessUpdated', '1 of 3 replicas updated')],
    [
      'a pod not ready',
      edit('statefulset-ready', { 'status.readyReplicas': 2 }),
      prog('LessReady', '2 of 3 replicas ready'),
    ],
    [
      'scaled down, extra pods terminating',
      edit('statefulset-ready', { 'spec.replicas': 2 }),
      prog('ExtraPods', 'extra replicas still terminating: 1'),
    ],
    [
      'all updated, current revision not yet moved',
      edit('statefulset-rollout', { 'status.updatedReplicas': 3, 'status.currentReplicas': 0 }),
      prog('LessCurrent', '0 of 3 replicas at the current revision'),
    ],
    [
      'counts met, revisions differ',
      edit('statefulset-ready', { 'status.updateRevision': 'db-84f6d9c7b5' }),
      prog('RevisionMismatch', 'rolling from revision db-6c9b7d5f48 to db-84f6d9c7b5'),
    ],
    [
      'partition: the pods above it are updated',
      load('statefulset-partition'),
      cur('partitioned rollout done: 1 replicas updated, partition 2', 'Partitioned'),
    ],
    [
      'partition: the pods above it not yet updated',
      edit('statefulset-partition', { 'status.updatedReplicas': 0 }),
      prog('PartitionRollout', '0 of 1 replicas above partition 2 updated'),
    ],
    [
      'OnDelete strategy',
      edit('statefulset-rollout', { 'spec.updateStrategy': { type: 'OnDelete' } }),
      cur('StatefulSet uses the OnDelete update strategy: pods are replaced by hand', 'OnDelete'),
    ],
  ]);
});

describe('healthOf: DaemonSet', () => {
  check([
    ['rolled out on every node', load('daemonset-ready'), cur('DaemonSet ready on 3 nodes')],
    [
      'just created, not observed (captured)',
      load('daemonset-created'),
      prog('NoObservedGeneration', 'DaemonSet not observed by its controller yet'),
    ],
    [
      'no generation',
      edit('daemonset-ready', { 'metadata.generation': undefined }),
      prog('NoGeneration', 'DaemonSet has no metadata.generation yet'),
    ],
    [
      'no desiredNumberScheduled',
      edit('daemonset-ready', { 'status.desiredNumberScheduled': undefined }),
      prog('NoDesiredNumber', 'DaemonSet has no desiredNumberScheduled yet'),
    ],
    [
      'a node without its pod',
      edit('daemonset-ready', { 'status.currentNumberScheduled': 2 }),
      prog('LessCurrent', '2 of 3 nodes run a daemon pod'),
    ],
    ['mid rolling update', load('daemonset-rollout'), prog('LessUpdated', '1 of 3 daemon pods updated')],
    [
      'updated, not yet available',
      edit('daemonset-ready', { 'status.numberAvailable': 2 }),
      prog('LessAvailable', '2 of 3 daemon pods available'),
    ],
    [
      'available, not ready',
      edit('daemonset-ready', { 'status.numberReady': 1 }),
      prog('LessReady', '1 of 3 daemon pods ready'),
    ],
  ]);
});

describe('healthOf: ReplicaSet', () => {
  check([
    ['all available', load('replicaset-ready'), cur('ReplicaSet available with 3 replicas')],
    [
      'ReplicaFailure (quota) stays InProgress with the controller reason and message',
      load('replicaset-quota'),
      prog(
        'FailedCreate',
        'pods "web-6d9f7c8b5-x2x4q" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=3, limited: pods=3',
      ),
    ],
    [
      'pods not fully labelled',
      edit('replicaset-ready', { 'status.fullyLabeledReplicas': 2 }),
      prog('LessLabelled', '2 of 3 replicas fully labelled'),
    ],
    [
      'not available',
      edit('replicaset-ready', { 'status.availableReplicas': 1 }),
      prog('LessAvailable', '1 of 3 replicas available'),
    ],
    [
      'not ready',
      edit('replicaset-ready', { 'status.readyReplicas': 0 }),
      prog('LessReady', '0 of 3 replicas ready'),
    ],
    [
      'extra pods',
      edit('replicaset-ready', { 'status.replicas': 5 }),
      prog('ExtraPods', 'extra replicas still terminating: 2'),
    ],
  ]);
});

describe('healthOf: Job and CronJob', () => {
  check([
    ['complete', load('job-complete'), cur('Job complete: 1 of 1 pods succeeded', 'CompletionsReached')],
    [
      'failed (backoff limit) with the controller reason and message',
      load('job-failed'),
      fail('BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
    ],
    [
      'FailureTarget alone already decides',
      edit('job-failed', {
        'status.conditions': [
          {
            type: 'FailureTarget',
            status: 'True',
            reason: 'DeadlineExceeded',
            message: 'Job was active longer than specified deadline',
          },
        ],
      }),
      fail('DeadlineExceeded', 'Job was active longer than specified deadline'),
    ],
    ['just created (captured)', load('job-created'), prog('JobNotStarted', 'Job not started yet')],
    [
      'running (unlike kstatus, not Current until complete)',
      load('job-running'),
      prog('JobRunning', 'Job running: 0 of 1 pods succeeded, 1 active, 0 failed'),
    ],
    [
      'completions default to parallelism',
      edit('job-running', { 'spec.completions': undefined, 'spec.parallelism': 3, 'status.succeeded': 1 }),
      prog('JobRunning', 'Job running: 1 of 3 pods succeeded, 1 active, 0 failed'),
    ],
    [
      'suspended',
      edit('job-created', {
        'spec.suspend': true,
        'status.conditions': [
          { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' },
        ],
      }),
      cur('Job suspended', 'Suspended'),
    ],
    [
      'a CronJob is always Current',
      load('cronjob'),
      cur('CronJob has no rollout: it is Current once applied'),
    ],
  ]);
});

describe('healthOf: Pod', () => {
  check([
    ['running and ready', load('pod-running-ready'), cur('Pod is ready')],
    ['succeeded', load('pod-succeeded'), cur('Pod completed successfully', 'PodCompleted')],
    [
      'failed (unlike kstatus, Failed) with the exit code',
      load('pod-failed'),
      fail('PodFailed', 'container check exited with code 1 (Error)'),
    ],
    [
      'failed with the kubelet reason and message (eviction)',
      edit('pod-failed', {
        'status.reason': 'Evicted',
        'status.message': 'The node was low on resource: memory.',
      }),
      fail('Evicted', 'The node was low on resource: memory.'),
    ],
    [
      'CrashLoopBackOff is Failed with the kubelet message',
      load('pod-crashloop'),
      fail(
        'ContainerCrashLooping',
        'containers in CrashLoopBackOff: app: back-off 1m20s restarting failed container=app pod=worker-5d7f9c6b8-tq2zr_shop(3f1c2b9e-7a4d-4c8e-9b2f-5e6a7d8c9b0a)',
      ),
    ],
    [
      'an init container in CrashLoopBackOff keeps the pod Pending: Failed',
      edit('pod-crashloop', {
        'status.phase': 'Pending',
        'status.initContainerStatuses': [
          { name: 'init-db', state: { waiting: { reason: 'CrashLoopBackOff' } } },
        ],
        'status.containerStatuses': [{ name: 'app', state: { waiting: { reason: 'PodInitializing' } } }],
      }),
      fail('ContainerCrashLooping', 'containers in CrashLoopBackOff: init-db'),
    ],
    [
      'running, not ready',
      edit('pod-crashloop', { 'status.containerStatuses': [] }),
      prog('PodRunningNotReady', 'containers with unready status: [app]'),
    ],
    [
      'unschedulable, without a clock: InProgress with the scheduler message',
      load('pod-unschedulable'),
      prog('PodNotScheduled', scheduler),
    ],
    ['pending, no scheduler yet (captured)', load('pod-created'), prog('PodPending', 'Pod is pending')],
    [
      'pending, pulling its image',
      edit('pod-created', {
        'status.containerStatuses': [
          {
            name: 'app',
            state: { waiting: { reason: 'ErrImagePull', message: 'failed to pull image "x": not found' } },
          },
        ],
      }),
      prog('PodPending', 'container app waiting: ErrImagePull: failed to pull image "x": not found'),
    ],
    [
      'no phase yet',
      edit('pod-created', { status: undefined }),
      prog('PodNotObserved', 'Pod has no phase yet'),
    ],
  ]);

  it('unschedulable past the 15 s schedule window, with a clock: Failed (kstatus)', () => {
    const pod = load('pod-unschedulable');
    const created = Date.parse('2026-11-25T18:00:00Z');
    expect(healthOf(pod, { now: new Date(created + SCHEDULE_WINDOW_MS + 1) })).toEqual(
      fail('PodUnschedulable', scheduler),
    );
    expect(healthOf(pod, { now: new Date(created + SCHEDULE_WINDOW_MS) })).toEqual(
      prog('PodNotScheduled', scheduler),
    );
  });
});

describe('healthOf: PVC, Service', () => {
  check([
    ['a bound PVC', load('pvc-bound'), cur('PVC bound to volume pvc-604bb279-b5cc-4dfd-89ab-ddcb78f23530')],
    ['a pending PVC (captured)', load('pvc-pending'), prog('NotBound', 'PVC not bound yet (phase Pending)')],
    [
      'a LoadBalancer Service with an ingress point',
      load('service-loadbalancer-ready'),
      cur('LoadBalancer Service reachable at 203.0.113.10'),
    ],
    [
      'a LoadBalancer Service without one (captured)',
      load('service-loadbalancer-pending'),
      prog('NoLoadBalancerIngress', 'waiting for the load balancer controller to publish an ingress point'),
    ],
    [
      'a LoadBalancer Service without a cluster IP',
      edit('service-loadbalancer-pending', { 'spec.clusterIP': undefined }),
      prog('NoIPAssigned', 'LoadBalancer Service has no cluster IP yet'),
    ],
    [
      'a ClusterIP Service',
      edit('service-loadbalancer-pending', { 'spec.type': 'ClusterIP' }),
      cur('ClusterIP Service is ready'),
    ],
  ]);
});

describe('healthOf: CRD, APIService', () => {
  check([
    ['an established CRD (captured)', load('crd-established'), cur('CRD is established')],
    [
      'a CRD whose kind clashes (captured)',
      load('crd-names-conflict'),
      fail('KindConflict', '"Widget" is already in use'),
    ],
    [
      'Established=False for another reason than a clash',
      edit('crd-established', {
        'status.conditions': [
          { type: 'Established', status: 'False', reason: 'Terminating', message: 'gone' },
        ],
      }),
      fail('Terminating', 'gone'),
    ],
    [
      'a CRD still installing',
      edit('crd-established', {
        'status.conditions': [{ type: 'Established', status: 'False', reason: 'Installing', message: 'x' }],
      }),
      prog('Installing', 'CRD not established yet'),
    ],
    [
      'a local APIService (captured)',
      load('apiservice-local'),
      cur('Local APIServices are always available'),
    ],
    [
      'an APIService failing its discovery check',
      load('apiservice-unavailable'),
      prog(
        'FailedDiscoveryCheck',
        'failing or missing response from https://10.0.0.118:443/apis/metrics.k8s.io/v1beta1: Get "https://10.0.0.118:443/apis/metrics.k8s.io/v1beta1": dial tcp 10.0.0.118:443: connect: connection refused',
      ),
    ],
    [
      'an APIService not checked yet',
      edit('apiservice-unavailable', { status: {} }),
      prog('NotObserved', 'APIService not checked by the aggregator yet'),
    ],
  ]);
});

describe('healthOf: custom resources and other kinds', () => {
  check([
    [
      'Ready=True',
      load('cr-kustomization-ready'),
      cur('Applied revision: main@sha1:5b2b0f1c9e8d7a6b5c4d3e2f1a0b9c8d7e6f5a4b', 'ReconciliationSucceeded'),
    ],
    [
      'Ready=False is InProgress with its reason and message',
      load('cr-certificate-issuing'),
      prog('DoesNotExist', 'Issuing certificate as Secret does not exist'),
    ],
    [
      'a Ready condition for an older generation is stale',
      edit('cr-kustomization-ready', { 'metadata.generation': 3, 'status.observedGeneration': undefined }),
      prog('ReadyStale', 'Kustomization Ready condition is for generation 2, not 3'),
    ],
    [
      'no rules and no conditions: Current',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: {} },
      cur('ConfigMap has no status rules and no Ready condition'),
    ],
  ]);
});
