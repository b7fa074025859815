/**
 * Typed reads from a live object (parsed JSON). A missing field yields the caller's default;
 * a field of the wrong type throws Unjudgeable (the API server never stores one, so the
 * object did not come from it).
 */
import { isRecord } from '../util/object.ts';
import { Unjudgeable } from './types.ts';

export type Obj = Record<string, unknown>;

/** One entry of `.status.conditions`. */
export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

function at(obj: Obj, path: string): unknown {
  let v: unknown = obj;
  for (const key of path.split('.')) {
    if (v === undefined || v === null) return undefined;
    if (!isRecord(v)) throw new Unjudgeable(`.${path}: a parent is not an object`);
    v = v[key];
  }
  return v === null ? undefined : v;
}

export function int(obj: Obj, path: string, dflt: number): number {
  const v = at(obj, path);
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Unjudgeable(`.${path} is not an integer`);
  return v;
}

export function optInt(obj: Obj, path: string): number | undefined {
  return at(obj, path) === undefined ? undefined : int(obj, path, 0);
}

export function str(obj: Obj, path: string, dflt = ''): string {
  const v = at(obj, path);
  if (v === undefined) return dflt;
  if (typeof v !== 'string') throw new Unjudgeable(`.${path} is not a string`);
  return v;
}

export function list(obj: Obj, path: string): Obj[] {
  const v = at(obj, path);
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every(isRecord)) throw new Unjudgeable(`.${path} is not a list of objects`);
  return v;
}

export function conditions(obj: Obj): Condition[] {
  return list(obj, 'status.conditions').map((c, i) => {
    const p = `status.conditions[${i}]`;
    if (typeof c['type'] !== 'string' || typeof c['status'] !== 'string')
      throw new Unjudgeable(`.${p} has no string type and status`);
    const cond: Condition = { type: c['type'], status: c['status'] };
    if (typeof c['reason'] === 'string' && c['reason'] !== '') cond.reason = c['reason'];
    if (typeof c['message'] === 'string' && c['message'] !== '') cond.message = c['message'];
    if (typeof c['observedGeneration'] === 'number') cond.observedGeneration = c['observedGeneration'];
    return cond;
  });
}

/** The first condition of a type (controllers keep one per type). */
export function condition(conds: Condition[], type: string): Condition | undefined {
  return conds.find((c) => c.type === type);
}

export function isTrue(conds: Condition[], type: string): boolean {
  return condition(conds, type)?.status === 'True';
}
