/**
 * The audit record: its types, its canonical serialization (what the hash covers) and its line
 * form (what the file holds). One record per line, UTF-8, '\n'-terminated, no other whitespace.
 *
 * The canonical form is written here rather than borrowed from another module because it is part
 * of the file format: changing it would break the verification of every log ever written.
 */

/** `prev` of the first record. */
export const AUDIT_GENESIS = '0'.repeat(64);

/** Longest line read or written (a record of 10,000 objects with fields is a few MB). */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

export const AUDIT_MODES = ['apply', 'report'] as const;
export type AuditMode = (typeof AUDIT_MODES)[number];

/** What started the reconcile. */
export const AUDIT_TRIGGERS = ['cli', 'poll', 'webhook', 'watch', 'manual'] as const;
export type AuditTrigger = (typeof AUDIT_TRIGGERS)[number];

/** Outcome of the whole reconcile. */
export const AUDIT_RESULTS = [
  'applied',
  'in-sync',
  'drift-found',
  'drift-healed',
  'pruned',
  'conflict',
  'error',
  'commit-refused',
  /** Written before the first write of a reconcile: what it is about to change (write-ahead). */
  'intent',
  /** Some objects were written and others failed: the commit is not fully applied. */
  'partial',
  /** Completes an intent whose process died before its own completion record. */
  'recovered',
  /** After an apply: every object of the commit became Current (details.health). */
  'healthy',
  /** After an apply: an object Failed, or did not become Current in time (details.health). */
  'degraded',
] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];

/**
 * What happened to one object: the executor's apply actions (created, configured, unchanged),
 * drift statuses of report mode (drifted, missing, orphaned, conflict), heals of apply mode
 * (healed), prunes, objects left alone by annotation or policy (skipped), and failures (error).
 */
export const AUDIT_ACTIONS = [
  'created',
  'configured',
  'unchanged',
  'healed',
  'pruned',
  'drifted',
  'missing',
  'orphaned',
  'conflict',
  'skipped',
  'error',
  /** In an intent record: about to be applied. */
  'planned',
  /** In an intent record: about to be deleted by prune. */
  'planned-prune',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** A manager owning a live field, from `metadata.managedFields` (same shape as fieldset's Owner). */
export interface AuditOwner {
  manager: string;
  operation: 'Apply' | 'Update';
  /** managedFields `time` (RFC 3339); absent when the server recorded none. */
  time?: string;
  subresource?: string;
}

/** One changed or drifted field. Values are JSON; `null` means absent on that side. */
export interface AuditField {
  /** Display form: `.spec.replicas`, `.spec.template.spec.containers[name=web].image`. */
  path: string;
  desired: unknown;
  live: unknown;
  owners: AuditOwner[];
}

export interface AuditObject {
  apiVersion: string;
  kind: string;
  /** '' for cluster-scoped objects. */
  namespace: string;
  name: string;
  action: AuditAction;
  fields?: AuditField[];
  /** Why this object failed (action 'error', or a conflict's explanation). */
  error?: string;
}

export interface AuditCommit {
  /** Full lowercase hex object id (40 for SHA-1 repositories, 64 for SHA-256). */
  sha: string;
  /** "Name <email>". */
  author: string;
  message: string;
  /** Commit time, ISO 8601. */
  time: string;
}

/** What callers pass to `AuditLog.append`. */
export interface AuditInput {
  app: string;
  /** null only when the reconcile failed before a commit was known (e.g. the fetch failed). */
  commit: AuditCommit | null;
  trigger: AuditTrigger;
  mode: AuditMode;
  result: AuditResult;
  objects: AuditObject[];
  /** The reconcile's error message, for result 'error' or 'commit-refused'. */
  error?: string;
  /** sha of the commit this commit reverts (`tether revert`). */
  revertOf?: string;
  /** Free-form JSON. The log writes `details.repairedTornLine` itself after repairing a torn line. */
  details?: Record<string, unknown>;
}

/** One line of the log. */
export interface AuditRecord extends AuditInput {
  /**
   * 1-based and increasing by one, except that the seq of a torn line cut off after a crash is
   * skipped (the next record names it in details.repairedTornLine): a seq is never reused.
   */
  seq: number;
  /** When the record was appended, ISO 8601 UTC. */
  time: string;
  /** `hash` of the previous record; AUDIT_GENESIS for the first. */
  prev: string;
  /** sha256 hex of canonicalJson(record without `hash`). */
  hash: string;
}

/** Set in `details` of the record appended right after a torn last line was cut off. */
export interface RepairedTornLine {
  /** Line number the torn line had. */
  line: number;
  /** How many bytes were removed. */
  bytes: number;
  /**
   * The seq the torn line would have had: never given to another record, so a seq once
   * written (even partly) always names the same record.
   */
  seq?: number;
}

/**
 * JSON with object keys sorted (by UTF-16 code unit, as Array.prototype.sort does) at every
 * level and no whitespace: RFC 8785 (JCS) for the values a record holds. Input must already be
 * plain JSON data (see toJsonData).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The line written for a record (without the newline). Keys come in a fixed, readable order;
 * the hash does not depend on it.
 */
export function recordLine(record: AuditRecord): string {
  const ordered = {
    seq: record.seq,
    time: record.time,
    app: record.app,
    commit: record.commit,
    trigger: record.trigger,
    mode: record.mode,
    result: record.result,
    revertOf: record.revertOf,
    error: record.error,
    objects: record.objects,
    details: record.details,
    prev: record.prev,
    hash: record.hash,
  };
  return JSON.stringify(ordered);
}
