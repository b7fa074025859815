/**
 * The status page's data, built from what the agent already holds: each runner's status and
 * last evaluation, and the audit log's newest records. Pure: data in, JSON out.
 */
import type { AuditCommit, AuditRecord } from '../../audit/index.ts';
import type { AppStatus } from '../../agent/app-runner.ts';
import type { RunnerView } from '../../agent/runner-view.ts';
import { resultsJson } from '../../cli/result-json.ts';
import { objectKey } from '../../manifests/identity.ts';
import type { CommitInfo } from '../../source/index.ts';
import { resolvedId } from '../../sync/classify.ts';
import { revertOf as revertOfMessage } from '../../sync/to-audit.ts';
import type {
  AppDetail,
  AppSummary,
  AuditRecordView,
  CommitGroup,
  CommitView,
  ObjectView,
} from '../shared/api.ts';

/** Commits the agent knows by sha: the ones in force, and those named by audit records. */
export type CommitLookup = (sha: string) => CommitView | undefined;

export function commitOfInfo(c: CommitInfo): CommitView {
  return {
    sha: c.sha,
    author: `${c.author.name} <${c.author.email}>`,
    message: c.message.trim(),
    time: c.author.time,
  };
}

export function commitOfAudit(c: AuditCommit): CommitView {
  return { sha: c.sha, author: c.author, message: c.message, time: c.time };
}

function commitView(sha: string | null, known: CommitLookup): CommitView | null {
  if (sha === null) return null;
  return known(sha) ?? { sha, author: null, message: null, time: null };
}

export function appSummary(s: AppStatus, known: CommitLookup): AppSummary {
  return {
    name: s.name,
    mode: s.mode,
    state: s.state,
    health: s.health,
    source: s.source,
    ref: s.ref,
    path: s.path,
    seen: commitView(s.lastSeenCommit, known),
    applied: commitView(s.lastAppliedCommit, known),
    lastError: s.lastError,
    lastReconcileAt: s.lastReconcileAt,
    nextPollAt: s.nextPollAt,
    driftedObjects: s.driftedObjects,
    reconciles: s.reconciles,
    unhealthy: s.unhealthy,
  };
}

/**
 * One app: its last reconcile in the shape of `tether drift -o json` (or `sync -o json` in
 * apply mode), each object with its health from the watch cache and its sync wave.
 */
export function appDetail(summary: AppSummary, view: RunnerView): AppDetail {
  if (!view.report) return { app: summary, report: null };
  const { commit, results } = view.report;
  const json = resultsJson(commit, view.app.name, results, view.health);
  const waves = new Map(view.plan.map((p) => [objectKey(resolvedId(p)), p.wave]));
  const objects: ObjectView[] = json.objects.map((o, i) => ({
    ...o,
    wave: waves.get(objectKey(results[i]!.id)) ?? null,
  }));
  // The app's health as the runner judged it from the watch cache (apply mode's results carry none).
  const health = summary.health ? { status: summary.health } : json.health;
  return { app: summary, report: { ...json, health, objects } };
}

/** The commit a record's commit reverts: its revertOf, or the line `git revert` writes in its message. */
export function revertOf(r: AuditRecord): string | null {
  return r.revertOf ?? (r.commit ? revertOfMessage(r.commit.message) : undefined) ?? null;
}

function recordView(r: AuditRecord): AuditRecordView {
  const seconds = (r.details?.['health'] as { seconds?: unknown } | undefined)?.seconds;
  return {
    seq: r.seq,
    time: r.time,
    app: r.app,
    trigger: r.trigger,
    mode: r.mode,
    result: r.result,
    ...(r.error !== undefined ? { error: r.error } : {}),
    objects: r.objects,
    ...(typeof seconds === 'number' ? { healthSeconds: seconds } : {}),
  };
}

/**
 * The audit trail per commit: every record of one app about one commit in a group, groups
 * newest first (by their last record), each revert linked both ways to the commit it reverts.
 */
export function commitGroups(records: readonly AuditRecord[], app?: string): CommitGroup[] {
  const groups = new Map<string, CommitGroup & { last: number }>();
  for (const r of records) {
    if (app !== undefined && r.app !== app) continue;
    const id = `${r.app}@${r.commit?.sha ?? '-'}`;
    let g = groups.get(id);
    if (!g) {
      g = {
        id,
        app: r.app,
        commit: r.commit ? commitOfAudit(r.commit) : null,
        revertOf: null,
        revertedBy: [],
        records: [],
        last: 0,
      };
      groups.set(id, g);
    }
    g.revertOf ??= revertOf(r);
    g.records.push(recordView(r));
    g.last = r.seq;
  }
  const all = [...groups.values()];
  for (const g of all) {
    if (!g.revertOf) continue;
    all.find((t) => t.app === g.app && t.commit?.sha === g.revertOf)?.revertedBy.push(g.id);
  }
  return all.sort((a, b) => b.last - a.last).map(({ last: _last, ...g }) => g);
}

/** A lookup of the commits that audit records name (the newest record wins). */
export function commitsOfRecords(records: readonly AuditRecord[]): Map<string, CommitView> {
  const out = new Map<string, CommitView>();
  for (const r of records) if (r.commit) out.set(r.commit.sha, commitOfAudit(r.commit));
  return out;
}
