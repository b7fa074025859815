/** The shared shape of the workload rules: the first unmet count is the InProgress reason. */
import { inProgress, type Health } from '../types.ts';

/** A check: when `short` is true the object is InProgress with this reason and message. */
export type Shortfall = [short: boolean, reason: string, message: string];

export function firstShortfall(checks: Shortfall[]): Health | undefined {
  const hit = checks.find(([short]) => short);
  return hit && inProgress(hit[1], hit[2]);
}
