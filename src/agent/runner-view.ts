/**
 * What the status page reads of one app beyond its /status entry: the app, its connection
 * (for reads and dry-runs only), the commit in force with its plan, and the last reconcile's
 * per-object results and health. A snapshot of references the runner replaces, never mutates.
 */
import type { LiveTracker } from '../cluster/live.ts';
import type { CommitInfo } from '../source/index.ts';
import type { App } from '../sync/app.ts';
import type { ObjectResult } from '../sync/outcome.ts';
import type { Connection } from '../sync/pipeline.ts';
import type { PlannedObject } from '../sync/plan.ts';
import type { ObjectHealth } from '../sync/wait.ts';

export interface RunnerView {
  app: App;
  conn: Connection;
  tracker: LiveTracker;
  /** The commit in force (loaded and valid); undefined before the first. */
  commit: CommitInfo | undefined;
  plan: readonly PlannedObject[];
  /** The last reconcile's commit and objects, in apply mode's or report mode's words. */
  report: { commit: string; results: readonly ObjectResult[] } | undefined;
  /** Each planned object's health, from the watch cache. */
  health: readonly ObjectHealth[];
}
