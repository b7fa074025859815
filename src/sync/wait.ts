/**
 * `sync --wait`: after the apply, read the app's objects until every one is Current (kstatus
 * words, src/health), or every one that is not has Failed, or the timeout passes, the way
 * `kubectl rollout status` and `flux ... --wait` wait. Reads only (GETs through the
 * connection's live reader); writes nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { healthOf, summarize, type Health, type HealthStatus } from '../health/index.ts';
import type { ObjectId } from '../manifests/index.ts';
import { mapConcurrent } from '../util/concurrency.ts';
import { resolvedId } from './classify.ts';
import type { ResourceInfo } from '../cluster/discovery.ts';
import type { KubeObject } from '../cluster/apply.ts';
import type { Connection } from './pipeline.ts';
import type { PlannedObject } from './plan.ts';

export interface ObjectHealth {
  id: ObjectId;
  health: Health;
}

/** An object that is not Current, as /status and the audit log name it. */
export interface UnhealthyObject {
  kind: string;
  namespace: string;
  name: string;
  status: HealthStatus;
  reason?: string;
  message: string;
}

/** The objects of `objects` that are not Current, with why. */
export function unhealthyObjects(objects: readonly ObjectHealth[]): UnhealthyObject[] {
  return objects
    .filter((o) => o.health.status !== 'Current')
    .map((o) => ({
      kind: o.id.kind,
      namespace: o.id.namespace,
      name: o.id.name,
      status: o.health.status,
      ...(o.health.reason ? { reason: o.health.reason } : {}),
      message: o.health.message,
    }));
}

export interface WaitResult {
  objects: ObjectHealth[];
  /** The app's health: Current when every object is. */
  status: HealthStatus;
  /** True when the timeout passed with objects still in progress. */
  timedOut: boolean;
  elapsedMs: number;
}

export interface WaitOptions {
  timeoutMs: number;
  /** Between two reads of the objects; default 1 s. */
  intervalMs?: number;
  /** Told after each read: how many objects are Current out of how many. */
  onProgress?: (current: number, total: number, waitingFor: ObjectHealth | undefined) => void;
  now?: () => Date;
}

/**
 * Where live objects come from: GETs and discovery (the CLI), or the watch cache and what
 * discovery already knows (the agent: health costs no request).
 */
export interface LiveSource {
  info(group: string, version: string, kind: string): Promise<ResourceInfo | undefined>;
  read(info: ResourceInfo, namespace: string, name: string): Promise<KubeObject | undefined>;
}

export function requestingSource(conn: Connection): LiveSource {
  return {
    info: (g, v, k) => conn.discovery.lookup(g, v, k),
    read: (info, ns, name) => conn.live.get(info, ns, name),
  };
}

/** Health of each planned object as it is live now. */
export async function readHealth(
  plan: readonly PlannedObject[],
  now: Date,
  source: LiveSource,
): Promise<ObjectHealth[]> {
  return mapConcurrent([...plan], 8, async (p) => {
    const { group, version, kind, name } = p.manifest.id;
    const info = await source.info(group, version, kind);
    const live = info ? await source.read(info, p.namespaced ? p.namespace : '', name) : undefined;
    return { id: resolvedId(p), health: healthOf(live, { now }) };
  });
}

const settled = (h: Health) => h.status === 'Current' || h.status === 'Failed';

export async function waitHealthy(
  conn: Connection,
  plan: readonly PlannedObject[],
  opts: WaitOptions,
): Promise<WaitResult> {
  const now = opts.now ?? (() => new Date());
  const started = Date.now();
  for (;;) {
    const objects = await readHealth(plan, now(), requestingSource(conn));
    const elapsedMs = Date.now() - started;
    const current = objects.filter((o) => o.health.status === 'Current').length;
    opts.onProgress?.(
      current,
      objects.length,
      objects.find((o) => o.health.status !== 'Current'),
    );
    const done = objects.every((o) => settled(o.health));
    if (done || elapsedMs >= opts.timeoutMs) {
      return { objects, status: summarize(objects.map((o) => o.health)), timedOut: !done, elapsedMs };
    }
    await sleep(Math.min(opts.intervalMs ?? 1000, Math.max(0, opts.timeoutMs - elapsedMs)));
  }
}
