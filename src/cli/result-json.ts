/**
 * The one machine-readable shape of per-object results, shared by `drift -o json|yaml` and
 * `sync -o json|yaml` (DESIGN.md's drift contract, plus app and the manifest's file and line).
 */
import { stringify } from 'yaml';
import type { FieldDrift } from '../diff/index.ts';
import { summarize as summarizeHealth, type Health, type HealthStatus } from '../health/index.ts';
import { objectKey } from '../manifests/identity.ts';
import { apiVersionOf, type ObjectResult } from '../sync/outcome.ts';
import type { ObjectHealth, WaitResult } from '../sync/wait.ts';

export interface FieldJson {
  path: string;
  desired: unknown;
  live: unknown;
  owners: { manager: string; operation: string; time: string | null }[];
}

export interface ObjectJson {
  apiVersion: string;
  kind: string;
  namespace: string | undefined;
  name: string;
  status: string;
  fields: FieldJson[];
  message?: string;
  file?: string;
  line?: number;
  /** kstatus health of the live object (drift, and sync --wait); null when not judged. */
  health: Health | null;
}

/**
 * The app's health: drift always judges it; sync only with --wait (then with whether the
 * wait timed out and how long it took), null otherwise.
 */
export interface AppHealthJson {
  status: HealthStatus;
  timedOut?: boolean;
  seconds?: number;
}

export interface ResultsJson {
  commit: string;
  app: string;
  health: AppHealthJson | null;
  objects: ObjectJson[];
}

function fieldJson(f: FieldDrift): FieldJson {
  return {
    path: f.path,
    desired: f.desired,
    live: f.live,
    owners: f.owners.map((o) => ({ manager: o.manager, operation: o.operation, time: o.time ?? null })),
  };
}

/** Drifted or changed fields, then conflicting ones not listed already (sync reports those apart). */
function fieldsOf(r: ObjectResult): FieldDrift[] {
  const seen = new Set(r.fields.map((f) => f.path));
  return [...r.fields, ...r.conflicts.filter((c) => !seen.has(c.path))];
}

export function resultsJson(
  commit: string,
  app: string,
  results: readonly ObjectResult[],
  health?: readonly ObjectHealth[],
): ResultsJson {
  const healthOf = new Map((health ?? []).map((h) => [objectKey(h.id), h.health]));
  const judged = results.flatMap((r) => (r.health ? [r.health] : []));
  return {
    commit,
    app,
    health: judged.length > 0 ? { status: summarizeHealth(judged) } : null,
    objects: results.map((r) => ({
      apiVersion: apiVersionOf(r.id),
      kind: r.id.kind,
      namespace: r.id.namespace,
      name: r.id.name,
      status: r.status,
      fields: fieldsOf(r).map(fieldJson),
      ...(r.message ? { message: r.message } : {}),
      ...(r.source ? { file: r.source.file, line: r.source.line } : {}),
      health: healthOf.get(objectKey(r.id)) ?? r.health ?? null,
    })),
  };
}

/** The app's health after `sync --wait`. */
export function healthJson(w: WaitResult): AppHealthJson {
  return { status: w.status, timedOut: w.timedOut, seconds: Math.round(w.elapsedMs) / 1000 };
}

/** JSON (indented) or YAML of the same object, newline-terminated. */
export function serialize(value: unknown, format: 'json' | 'yaml'): string {
  if (format === 'yaml') return stringify(value, { aliasDuplicateObjects: false });
  return JSON.stringify(value, null, 2) + '\n';
}
