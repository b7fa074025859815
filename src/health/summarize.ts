/**
 * The health of an app from the health of its objects: the worst wins.
 *
 *   Failed > Unknown > Terminating > InProgress > Current
 *
 * - Failed first: something needs a person; waiting will not help.
 * - Unknown next (as in kstatus' aggregator): an object that cannot be judged must not let the
 *   app pass as healthy, and it will not resolve by waiting either.
 * - Terminating above InProgress: an object the app wants is going away, which a rollout does
 *   not explain.
 * - NotFound counts as InProgress: the list is the app's desired objects, so a missing one is
 *   about to be created (right after apply the watch cache may not have it yet). Pass only
 *   objects that should exist; pruned ones are not the app's any more.
 * An app with no objects is Current.
 */
import type { Health, HealthStatus } from './types.ts';

const RANK: Record<HealthStatus, number> = {
  Current: 0,
  NotFound: 1,
  InProgress: 1,
  Terminating: 2,
  Unknown: 3,
  Failed: 4,
};

export function summarize(healths: readonly Health[]): HealthStatus {
  let worst: HealthStatus = 'Current';
  for (const { status } of healths) if (RANK[status] > RANK[worst]) worst = status;
  return worst === 'NotFound' ? 'InProgress' : worst;
}
