/**
 * Deleting an App with `spec.prune: true` deletes exactly its objects: the pipeline runs with
 * an empty plan, so prune removes what the app's inventory lists and nothing else (objects of
 * other apps, child Apps' objects, objects marked tether.dev/prune: "false" stay). It goes
 * through the write-ahead audit gate like any reconcile: an intent first, a completion after.
 * The prune guard does not apply: deleting the App is the explicit request.
 */
import type { AuditTrigger } from '../audit/index.ts';
import type { CommitInfo } from '../source/index.ts';
import type { App } from '../sync/app.ts';
import { failed } from '../sync/outcome.ts';
import type { Connection } from '../sync/pipeline.ts';
import { auditInput } from '../sync/to-audit.ts';
import { applyAudited } from '../sync/write-ahead.ts';
import type { AuditSink } from './audit-sink.ts';
import { NotLeaderError } from './leader.ts';

export interface PruneAppInput {
  app: App;
  conn: Connection;
  audit: AuditSink;
  /** The commit last applied (its status), for the audit record. */
  lastCommit: string | undefined;
  mayWrite: () => boolean;
  verifyLease?: () => Promise<void>;
}

export interface PruneAppResult {
  deleted: number;
  /** Messages of the objects that could not be deleted; empty when all went. */
  failures: string[];
}

export async function pruneApp(input: PruneAppInput): Promise<PruneAppResult> {
  const { app, conn } = input;
  const now = new Date().toISOString();
  const tether = { name: 'tether', email: 'tether@localhost', time: now };
  const commit: CommitInfo = {
    sha: input.lastCommit ?? '0'.repeat(40),
    author: tether,
    committer: tether,
    message: `App ${app.name} deleted with spec.prune: true: its objects are pruned`,
    parents: [],
  };
  const trigger: AuditTrigger = 'manual';
  const outcome = await applyAudited({
    ...conn,
    plan: [],
    commit: commit.sha,
    app: app.name,
    source: app.sourceId,
    namespace: app.destination.namespace,
    settings: { ...app.settings, prune: true, allowMassPrune: true },
    log: input.audit,
    commitInfo: commit,
    trigger,
    fence: () => {
      if (!input.mayWrite())
        throw new NotLeaderError('this replica no longer holds the lease: it writes nothing');
    },
    ...(input.verifyLease ? { checkpoint: input.verifyLease } : {}),
  });
  const results = outcome.results;
  const record = auditInput({ app: app.name, commit, trigger, mode: 'apply', results, commitIsNew: true });
  await input.audit.append(
    outcome.gate.complete({ ...record, details: { ...record.details, appDeleted: true } }),
  );
  return {
    deleted: results.filter((r) => r.status === 'pruned').length,
    failures: results.filter((r) => failed(r.status)).map((r) => r.message ?? r.status),
  };
}
