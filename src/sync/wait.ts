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
import type { Connection } from './pipeline.ts';
import type { PlannedObject } from './plan.ts';

export interface ObjectHealth {
  id: ObjectId;
  health: Health;
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

/** Health of each planned object as it is live now (one GET each). */
export async function readHealth(
  conn: Connection,
  plan: readonly PlannedObject[],
  now: Date,
): Promise<ObjectHealth[]> {
  return mapConcurrent([...plan], 8, async (p) => {
    const info = await conn.discovery.lookup(p.manifest.id.group, p.manifest.id.version, p.manifest.id.kind);
    const live = info
      ? await conn.live.get(info, p.namespaced ? p.namespace : '', p.manifest.id.name)
      : undefined;
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
    const objects = await readHealth(conn, plan, now());
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
