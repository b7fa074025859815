/**
 * The one result vocabulary of the sync stage, consumed alike by sync, drift, diff, the agent,
 * the audit log and every output format. Each command has its own words for what happened to
 * an object (they are part of the CLI and JSON contracts), and one table says what each word
 * means: whether the cluster was written, whether it is a difference from Git, whether it
 * failed, and how the audit log records it.
 */
import type { AuditAction, AuditMode, AuditResult } from '../audit/index.ts';
import type { FieldDrift, Operation } from '../diff/index.ts';
import type { Health } from '../health/index.ts';
import type { ObjectId, SourceLocation } from '../manifests/index.ts';
import type { ObjectError } from './errors.ts';
import type { HookOutcome, HookPhase } from './hooks.ts';

/** What `tether sync` (apply mode) did to an object. */
export type ApplyStatus =
  'created' | 'configured' | 'unchanged' | 'pruned' | 'conflict' | 'skipped' | 'failed';
/** What `tether drift` (report mode) found: the `drift -o json` statuses. */
export type ReportStatus = 'in-sync' | 'drifted' | 'missing' | 'orphaned' | 'conflict' | 'error';
/**
 * What `tether diff` says applying would do. `recreate`: an immutable field changed and
 * recreating is allowed (deleted, then created); `refused`: an immutable field changed and it
 * is not (sync would refuse the commit).
 */
export type PreviewStatus = 'create' | 'update' | 'recreate' | 'refused' | 'unchanged' | 'delete' | 'orphan';
export type ObjectStatus = ApplyStatus | ReportStatus | PreviewStatus;

interface Traits {
  /** The cluster was written (created, patched or deleted). */
  wrote: boolean;
  /** Git and the cluster differ (or will once this is applied). */
  differs: boolean;
  /** The object could not be evaluated or applied. */
  failed: boolean;
  /** How the audit log records it; undefined: not recorded (nothing notable). */
  audit: AuditAction | undefined;
}

const none: Traits = { wrote: false, differs: false, failed: false, audit: undefined };

const TRAITS: Record<ObjectStatus, Traits> = {
  created: { ...none, wrote: true, audit: 'created' },
  configured: { ...none, wrote: true, audit: 'configured' },
  pruned: { ...none, wrote: true, audit: 'pruned' },
  unchanged: none,
  skipped: none,
  conflict: { ...none, differs: true, audit: 'conflict' },
  failed: { ...none, failed: true, audit: 'error' },
  'in-sync': none,
  drifted: { ...none, differs: true, audit: 'drifted' },
  missing: { ...none, differs: true, audit: 'missing' },
  orphaned: { ...none, differs: true, audit: 'orphaned' },
  error: { ...none, failed: true, audit: 'error' },
  create: { ...none, differs: true },
  update: { ...none, differs: true },
  recreate: { ...none, differs: true },
  refused: { ...none, differs: true },
  delete: { ...none, differs: true },
  orphan: { ...none, differs: true },
};

export const wrote = (s: ObjectStatus): boolean => TRAITS[s].wrote;
export const differs = (s: ObjectStatus): boolean => TRAITS[s].differs;
export const failed = (s: ObjectStatus): boolean => TRAITS[s].failed;
export const auditActionOf = (s: ObjectStatus): AuditAction | undefined => TRAITS[s].audit;

/** One object's outcome. */
export interface ObjectResult<S extends ObjectStatus = ObjectStatus> {
  /** Namespace resolved (defaulted) as applied. */
  id: ObjectId;
  source?: SourceLocation;
  status: S;
  /** Drifted or changed fields, with the live value's owners. Secret values are masked. */
  fields: FieldDrift[];
  /** Fields another server-side applier owns with a different value. */
  conflicts: FieldDrift[];
  /** Why: the error, the skip reason, the conflict policy applied. */
  message?: string;
  /** Set when the object failed: which object, where in Git, and the cause. */
  error?: ObjectError;
  /** diff only: the live and the would-be object (normalised, Secrets masked) and the patch. */
  change?: { before: unknown; after: unknown; patch: Operation[] };
  /** drift: the kstatus health of the live object (NotFound when there is none). */
  health?: Health;
  /** sync: set when the object is a sync hook (src/sync/hooks.ts), with how it ended. */
  hook?: { phase: HookPhase; outcome: HookOutcome; deleted: boolean };
}

/** Reasons an object was left alone, worded once for every command. */
export const IGNORED_REASON = 'tether.dev/apply: ignore';
export const CREATE_ONLY_REASON = 'tether.dev/apply: create-only, and the object exists';

export function apiVersionOf(id: ObjectId): string {
  return id.group ? `${id.group}/${id.version}` : id.version;
}

/** Exit code of diff and drift, as kubectl diff: 0 no differences, 1 differences, 2 error. */
export function exitCodeOf(results: readonly ObjectResult[]): 0 | 1 | 2 {
  if (results.some((r) => failed(r.status))) return 2;
  return results.some((r) => differs(r.status)) ? 1 : 0;
}

/** Objects that differ from Git (drift or conflict), as the agent counts them. */
export function countDiffering(results: readonly ObjectResult[]): number {
  return results.filter((r) => differs(r.status)).length;
}

/** `3 in-sync, 1 drifted`: the counts of each status, in order of first appearance. */
export function summarize(results: readonly ObjectResult[]): string {
  const counts = new Map<string, number>();
  for (const r of results) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n} ${s}`).join(', ') || 'no objects';
}

/**
 * The word for a whole reconcile. `commitIsNew` says whether this commit had been applied
 * before: a write to an applied commit heals drift.
 */
export function reconcileResult(
  mode: AuditMode,
  results: readonly ObjectResult[],
  commitIsNew: boolean,
): AuditResult {
  const has = (...s: ObjectStatus[]) => results.some((r) => s.includes(r.status));
  // Some objects written and others refused: the commit is not (yet) applied.
  if (results.some((r) => failed(r.status)))
    return mode === 'apply' && results.some((r) => wrote(r.status)) ? 'partial' : 'error';
  if (mode === 'report')
    return has('conflict') ? 'conflict' : has('drifted', 'missing', 'orphaned') ? 'drift-found' : 'in-sync';
  if (has('created', 'configured')) return commitIsNew ? 'applied' : 'drift-healed';
  if (has('pruned')) return 'pruned';
  if (has('conflict')) return 'conflict';
  return commitIsNew ? 'applied' : 'in-sync';
}
