/**
 * The status page's data: what the agent's /api/ endpoints answer and the page reads. Plain
 * JSON types, shared by the server (src/ui/server) and the browser code (src/ui/web), so
 * neither side can drift from the other. Read-only: no endpoint takes a body or writes.
 *
 *   GET /api/apps                          AppsView
 *   GET /api/apps/{name}                   AppDetail
 *   GET /api/apps/{name}/diff?commit={sha} DiffView (server-side dry-run, as `tether diff`)
 *   GET /api/audit[?app={name}]            AuditView
 *   GET /api/events                        text/event-stream: `change` when anything above may have changed
 *
 * Errors answer `{"error": "..."}` with a 4xx or 5xx status. Secret values never appear:
 * every value below is masked ("***") where it would show one, as in `tether drift -o json`.
 */

/** A commit as Git describes it; `author`, `message` and `time` are null when unknown. */
export interface CommitView {
  sha: string;
  author: string | null;
  message: string | null;
  time: string | null;
}

export interface HealthView {
  /** kstatus words: Current, InProgress, Failed, Terminating, NotFound, Unknown. */
  status: string;
  reason?: string;
  message: string;
}

export interface UnhealthyView {
  kind: string;
  namespace: string;
  name: string;
  status: string;
  reason?: string;
  message: string;
}

export interface AppSummary {
  name: string;
  mode: 'apply' | 'report';
  /** pending, in-sync, drifted, conflict, degraded, error, suspended. */
  state: string;
  /** The app's health (kstatus); null before the first reconcile. */
  health: string | null;
  /** The repository (credentials removed), the tracked ref (null: the remote's HEAD) and path. */
  source: string;
  ref: string | null;
  path: string;
  seen: CommitView | null;
  applied: CommitView | null;
  lastError: string | null;
  lastReconcileAt: string | null;
  nextPollAt: string | null;
  driftedObjects: number;
  reconciles: number;
  unhealthy: UnhealthyView[];
}

/** The agent's audit log: whether it can be written, its head, and the head's anchoring. */
export interface AuditHeadView {
  writable: boolean;
  lastError: string | null;
  head: { seq: number; hash: string };
  /** Names the log where its head is anchored (the first 16 hex of its first record's hash). */
  chain: string | null;
  /** The last anchor written, and the last failure to write one. */
  anchoredSeq: number | null;
  anchorError: string | null;
}

export interface AppsView {
  agent: { identity: string; leader: boolean; version: string };
  audit: AuditHeadView;
  apps: AppSummary[];
}

export interface OwnerView {
  manager: string;
  /** Apply (server-side apply) or Update (kubectl edit, scale, patch, a controller). */
  operation: string;
  time: string | null;
}

/** One drifted, conflicting or changed field: Git's value, the live value, who owns the live one. */
export interface FieldView {
  path: string;
  desired: unknown;
  live: unknown;
  owners: OwnerView[];
}

/** One object as `tether drift -o json` (report mode) or `tether sync -o json` (apply mode) shows it, plus its wave. */
export interface ObjectView {
  apiVersion: string;
  kind: string;
  namespace: string | undefined;
  name: string;
  /** in-sync, drifted, missing, orphaned, conflict, error (report); created, configured, unchanged, pruned, conflict, skipped, failed (apply). */
  status: string;
  fields: FieldView[];
  message?: string;
  file?: string;
  line?: number;
  health: HealthView | null;
  /** tether.dev/sync-wave; null for objects not in the commit (orphans, prunes). */
  wave: number | null;
}

export interface AppDetail {
  app: AppSummary;
  /** The last reconcile, in the shape of `tether drift -o json`; null before the first. */
  report: {
    commit: string;
    app: string;
    health: { status: string } | null;
    objects: ObjectView[];
  } | null;
}

export interface AuditFieldView {
  path: string;
  desired: unknown;
  live: unknown;
  owners: { manager: string; operation: string; time?: string; subresource?: string }[];
}

export interface AuditObjectView {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  action: string;
  fields?: AuditFieldView[];
  error?: string;
}

export interface AuditRecordView {
  seq: number;
  time: string;
  app: string;
  trigger: string;
  mode: string;
  result: string;
  error?: string;
  objects: AuditObjectView[];
  /** Seconds a commit took to become healthy (result healthy). */
  healthSeconds?: number;
}

/** Every record of one app about one commit, newest last. */
export interface CommitGroup {
  /** `<app>@<sha>`, or `<app>@-` for records of no commit (a fetch that failed). */
  id: string;
  app: string;
  commit: CommitView | null;
  /** The commit this one reverts (the record's revertOf, or git's "This reverts commit <sha>."). */
  revertOf: string | null;
  /** Groups (ids) of the same app whose commits revert this one. */
  revertedBy: string[];
  records: AuditRecordView[];
}

export interface ChainView {
  ok: boolean;
  /** Good records from the start of the log. */
  records: number;
  head: { seq: number; hash: string };
  /** Where and why the chain breaks (a changed, removed or inserted line, a torn last line). */
  problem?: { line: number; reason: string };
  /** The chain's name (first 16 hex of its first hash). */
  chain: string | null;
}

/** A head anchored in the cluster (annotation on an app's inventory ConfigMap), checked against the log. */
export interface AnchorView {
  app: string;
  /** `namespace/configmap`. */
  source: string;
  seq: number;
  /** True when the log has that record with that hash. */
  matches: boolean;
  problem?: string;
}

export interface AuditView {
  chain: ChainView;
  anchors: AnchorView[];
  /** Newest first; at most the last AUDIT_WINDOW records of the log are grouped. */
  groups: CommitGroup[];
  /** Records grouped (after the app filter) and records in the log. */
  shown: number;
  total: number;
}

/** One object as `tether diff -o json` shows it, with the unified YAML diff its text output prints. */
export interface DiffObjectView {
  apiVersion: string;
  kind: string;
  namespace: string | undefined;
  name: string;
  /** create, update, recreate, refused, unchanged, delete, orphan (as `tether diff`). */
  action: string;
  /** The fields that change, with who owns them today. */
  fields: AuditFieldView[];
  /** RFC 6902 patch live -> Git. */
  patch: unknown[];
  message?: string;
  /** Unified YAML diff live -> Git, Secret values masked; '' when nothing changes. */
  diff: string;
}

export interface DiffView {
  app: string;
  commit: CommitView;
  objects: DiffObjectView[];
  /** Objects that would change. */
  changed: number;
  computedAt: string;
}

export interface ErrorView {
  error: string;
}
