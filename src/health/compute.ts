/**
 * healthOf: one live object in, its kstatus-style health out. Pure: no clock unless given.
 * Order: NotFound (no object), generic rules (Terminating, unobserved generation,
 * Reconciling/Stalled), then the rule of the object's group and kind, else its Ready condition.
 */
import { isRecord } from '../util/object.ts';
import { genericHealth } from './generic.ts';
import type { Obj } from './read.ts';
import { apiServiceHealth, crdHealth } from './rules/api.ts';
import { daemonSetHealth, deploymentHealth, replicaSetHealth, statefulSetHealth } from './rules/apps.ts';
import { cronJobHealth, jobHealth } from './rules/batch.ts';
import { pvcHealth, serviceHealth } from './rules/core.ts';
import { podHealth } from './rules/pod.ts';
import { readyConditionHealth } from './rules/ready.ts';
import { Unjudgeable, type Health, type HealthOptions } from './types.ts';

type Rule = (obj: Obj, options: HealthOptions) => Health;

/** Rules by "group/Kind" ("Kind" alone for the core group). */
const RULES: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  ['Pod', podHealth],
  ['PersistentVolumeClaim', pvcHealth],
  ['Service', serviceHealth],
  ['apps/Deployment', deploymentHealth],
  ['extensions/Deployment', deploymentHealth],
  ['apps/StatefulSet', statefulSetHealth],
  ['apps/DaemonSet', daemonSetHealth],
  ['extensions/DaemonSet', daemonSetHealth],
  ['apps/ReplicaSet', replicaSetHealth],
  ['extensions/ReplicaSet', replicaSetHealth],
  ['batch/Job', jobHealth],
  ['batch/CronJob', cronJobHealth],
  ['apiextensions.k8s.io/CustomResourceDefinition', crdHealth],
  ['apiregistration.k8s.io/APIService', apiServiceHealth],
]);

export function healthOf(live: Record<string, unknown> | undefined, options: HealthOptions = {}): Health {
  if (live === undefined || live === null) return { status: 'NotFound', message: 'object does not exist' };
  if (!isRecord(live)) return unknown('the live object is not a JSON object');
  const { apiVersion, kind } = live;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || apiVersion === '' || kind === '')
    return unknown('the live object has no apiVersion and kind');
  if (live['status'] !== undefined && live['status'] !== null && !isRecord(live['status']))
    return unknown(`${kind} .status is not an object`);
  try {
    const rule = RULES.get(ruleKey(apiVersion, kind));
    return genericHealth(live, kind) ?? (rule ? rule(live, options) : readyConditionHealth(live, kind));
  } catch (err) {
    if (err instanceof Unjudgeable) return unknown(`${kind} cannot be judged: ${err.message}`);
    throw err;
  }
}

function ruleKey(apiVersion: string, kind: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? kind : `${apiVersion.slice(0, slash)}/${kind}`;
}

function unknown(message: string): Health {
  return { status: 'Unknown', reason: 'Unjudgeable', message };
}
