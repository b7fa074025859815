/**
 * The agent's reconcile decisions as functions of their inputs, so they can be tested
 * without a cluster: whether a tick evaluates objects or skips, what the app's status is
 * after a result, and which reconciles the audit log records. AppRunner keeps the
 * scheduling and the I/O.
 */
import type { AuditInput } from '../audit/index.ts';
import { countDiffering, failed, wrote, type ObjectResult } from '../sync/outcome.ts';
import type { PlannedObject } from '../sync/plan.ts';

/** A full evaluation at least this often, even when nothing announced a change. */
export const RESYNC_MS = 10 * 60_000;

/** What a clean reconcile saw; an equal state later means evaluating again would find the same. */
export interface Settled {
  /** The commit the poll saw (a refused one included: its error stays reported). */
  sha: string;
  plan: PlannedObject[];
  version: string;
  result: string;
  at: number;
}

export interface Tick {
  sha: string;
  plan: PlannedObject[];
  /** The live tracker's version now; undefined while a watch is down. */
  version: string | undefined;
  now: number;
}

/**
 * Skip the object-by-object evaluation when the commit, the plan and every watched object
 * are as a clean reconcile left them: the evaluation would repeat itself. The watch is what
 * makes this safe; RESYNC_MS bounds the trust placed in it.
 */
export function canSkipEvaluation(settled: Settled | undefined, tick: Tick): boolean {
  return (
    settled !== undefined &&
    tick.version !== undefined &&
    settled.version === tick.version &&
    settled.sha === tick.sha &&
    settled.plan === tick.plan &&
    tick.now - settled.at < RESYNC_MS
  );
}

/** Nothing written and nothing failed: a repeat would find the same. */
export function isQuiet(results: readonly ObjectResult[]): boolean {
  return !results.some((r) => failed(r.status) || wrote(r.status));
}

/**
 * The state to trust after a reconcile: only a quiet one during which no watch event came
 * (the version before and after are the same) settles.
 */
export function settleAfter(
  tick: Tick,
  after: string | undefined,
  quiet: boolean,
  result: string,
): Settled | undefined {
  if (tick.version === undefined || after !== tick.version || !quiet) return undefined;
  return { sha: tick.sha, plan: tick.plan, version: tick.version, result, at: tick.now };
}

/**
 * `degraded`: the commit in force was converged, but something it depends on failed (the Git
 * source is unreachable); `error`: the reconcile itself failed.
 */
export type AppState = 'pending' | 'in-sync' | 'drifted' | 'conflict' | 'degraded' | 'error' | 'suspended';

export interface AppView {
  state: AppState;
  lastError: string | null;
  driftedObjects: number;
}

/**
 * The app's state after a reconcile's results. A refused newer commit keeps the app in
 * error (the reconcile ran the commit in force) until a good commit comes.
 */
export function viewAfter(results: readonly ObjectResult[], refusedError: string | undefined): AppView {
  const driftedObjects = countDiffering(results);
  const failure = results.find((r) => failed(r.status));
  if (refusedError) return { state: 'error', lastError: refusedError, driftedObjects };
  if (failure)
    return { state: 'error', lastError: failure.message ?? 'an object failed to apply', driftedObjects };
  const state = results.some((r) => r.status === 'conflict')
    ? 'conflict'
    : driftedObjects > 0
      ? 'drifted'
      : 'in-sync';
  return { state, lastError: null, driftedObjects };
}

/** What the audit log has been told lately, so a steady state is recorded once, not every tick. */
export interface RecordMemory {
  fingerprint: string | undefined;
  /** The last record was a finding (drift, conflict, error) rather than a write. */
  lastWasFinding: boolean;
}

export const EMPTY_MEMORY: RecordMemory = { fingerprint: undefined, lastWasFinding: false };

/**
 * Record what happened (writes, a new commit) and what changed in what was found (new drift,
 * a conflict, an error, or their end).
 */
export function recordDecision(
  memory: RecordMemory,
  input: Pick<AuditInput, 'objects'> & { commit: { sha: string } | null },
  opts: { wrote: boolean; commitIsNew: boolean },
): { append: boolean; memory: RecordMemory } {
  const fingerprint = JSON.stringify([input.commit?.sha, input.objects]);
  const finding = input.objects.length > 0;
  const changed = fingerprint !== memory.fingerprint && (finding || memory.lastWasFinding);
  if (!opts.wrote && !opts.commitIsNew && !changed) return { append: false, memory };
  return { append: true, memory: { fingerprint, lastWasFinding: finding && !opts.wrote } };
}

/** A failed reconcile is recorded once per distinct error. */
export function failureDecision(
  memory: RecordMemory,
  message: string,
): { append: boolean; memory: RecordMemory } {
  const fingerprint = `error:${message}`;
  if (fingerprint === memory.fingerprint) return { append: false, memory };
  return { append: true, memory: { fingerprint, lastWasFinding: true } };
}
