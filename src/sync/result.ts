/**
 * One structured result per object, consumed alike by the CLI, the agent and the audit log.
 * Apply mode yields created/configured/unchanged/pruned/conflict/skipped/failed; report mode
 * yields in-sync/drifted/missing/orphaned/conflict/error (the `drift -o json` statuses).
 */
import type { FieldDrift } from '../diff/index.ts';
import type { ObjectId, SourceLocation } from '../manifests/index.ts';

export type ApplyStatus =
  'created' | 'configured' | 'unchanged' | 'pruned' | 'conflict' | 'skipped' | 'failed';
export type ReportStatus = 'in-sync' | 'drifted' | 'missing' | 'orphaned' | 'conflict' | 'error';
export type ObjectStatus = ApplyStatus | ReportStatus;

export interface ObjectResult {
  /** Namespace resolved (defaulted) as applied. */
  id: ObjectId;
  source?: SourceLocation;
  status: ObjectStatus;
  /** Drifted or changed fields, with the live value's owners. Secret values are masked. */
  fields: FieldDrift[];
  /** Fields another server-side applier owns with a different value. */
  conflicts: FieldDrift[];
  /** Why: the error, the skip reason, the conflict policy applied. */
  message?: string;
}

export function apiVersionOf(id: ObjectId): string {
  return id.group ? `${id.group}/${id.version}` : id.version;
}
