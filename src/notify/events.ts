/**
 * Which outcome a reconcile is, for the notifiers, and its one-line message. Notifications
 * follow the audit log's decisions: a reconcile that the log does not record (a steady state,
 * the same failure or the same drift again) notifies nobody. Pure.
 */
import type { SyncMode } from '../config/types.ts';
import type { HealthStatus } from '../health/index.ts';
import { differs, failed, summarize, wrote, type ObjectResult } from '../sync/outcome.ts';
import type { NotifyEvent } from './outcome.ts';
import { shortCommit } from './outcome.ts';

export interface EventView {
  event: NotifyEvent;
  result: string;
  message: string;
}

const label = (r: ObjectResult) => `${r.id.kind} ${r.id.namespace ? `${r.id.namespace}/` : ''}${r.id.name}`;

function listed(results: readonly ObjectResult[], max = 3): string {
  const names = results.slice(0, max).map(label).join(', ');
  return results.length > max ? `${names} and ${results.length - max} more` : names;
}

/** The outcome of a reconcile the audit log recorded (`recorded`), or undefined. */
export function reconcileEvent(
  mode: SyncMode,
  sha: string,
  results: readonly ObjectResult[],
  recorded: boolean,
): EventView | undefined {
  if (!recorded) return undefined;
  const failures = results.filter((r) => failed(r.status));
  const commit = shortCommit(sha);
  if (failures.length > 0) {
    const first = failures[0]!;
    return {
      event: 'failed',
      result: 'error',
      message: `sync of ${commit} failed: ${failures.length} object(s); ${label(first)}: ${first.message ?? 'failed'}`,
    };
  }
  if (mode === 'apply') {
    const written = results.filter((r) => wrote(r.status));
    if (written.length === 0) return undefined;
    return { event: 'applied', result: 'applied', message: `applied ${commit}: ${summarize(written)}` };
  }
  const drifted = results.filter((r) => differs(r.status));
  if (drifted.length === 0) return undefined;
  return {
    event: 'drift',
    result: 'drift',
    message: `drift at ${commit}: ${drifted.length} object(s) differ from Git (${listed(drifted)})`,
  };
}

/** The message of a health transition the audit log recorded. */
export function healthMessage(
  result: 'healthy' | 'degraded',
  sha: string,
  seconds: number | undefined,
  unhealthy: readonly {
    kind: string;
    namespace: string;
    name: string;
    status: HealthStatus;
    message: string;
  }[],
): string {
  const commit = shortCommit(sha);
  if (result === 'healthy')
    return `${commit} is healthy${seconds !== undefined ? ` after ${seconds}s` : ''}: every object is Current`;
  const first = unhealthy.find((u) => u.status === 'Failed') ?? unhealthy[0];
  const what = first
    ? `${first.kind} ${first.namespace ? `${first.namespace}/` : ''}${first.name} ${first.status}: ${first.message}`
    : 'an object failed';
  return `${commit} is degraded: ${what}`;
}
