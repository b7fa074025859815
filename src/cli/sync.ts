/** `tether sync`: read a commit, validate it, server-side apply it, print what happened. */
import { Command } from 'commander';
import { terminalProgress } from './progress.ts';
import { formatId } from '../manifests/index.ts';
import { applyCommit, DEFAULT_SETTINGS } from '../sync/execute.ts';
import { connect, loadCommit, planFor } from '../sync/pipeline.ts';
import type { ObjectResult } from '../sync/result.ts';
import {
  addAuditFlag,
  addClusterFlags,
  addSourceFlags,
  appendAudit,
  outputOption,
  useColor,
} from './common.ts';
import { auditInput, revertOf } from '../sync/to-audit.ts';
import { formatFieldDrift } from '../diff/index.ts';
import { addIgnoreFlags, ignoreRulesFromFlags, targetFromFlags, type TargetFlags } from './target.ts';

interface SyncFlags extends TargetFlags {
  auditLog: string;
  output: 'text' | 'json';
  prune?: boolean;
  allowMassPrune?: boolean;
  force?: boolean;
  recreate?: boolean;
}

export async function runSync(flags: SyncFlags): Promise<ObjectResult[]> {
  const app = targetFromFlags(flags, 'sync');
  const loaded = await loadCommit(app);
  const sha = loaded.snapshot.commit.sha;
  const conn = await connect({ kubeconfig: flags.kubeconfig, context: flags.context });
  const progress = terminalProgress(flags.output === 'text');
  try {
    const plan = planFor(app, loaded, conn);
    const { results, previousCommit } = await applyCommit({
      onProgress: progress.report,
      ...conn,
      plan,
      commit: sha,
      app: app.name,
      namespace: app.namespace,
      settings: {
        ...DEFAULT_SETTINGS,
        prune: Boolean(flags.prune),
        allowMassPrune: Boolean(flags.allowMassPrune),
        conflicts: flags.force ? 'force' : 'report',
        recreate: Boolean(flags.recreate),
        ignore: ignoreRulesFromFlags(flags),
      },
    });
    progress.end();
    await appendAudit(
      flags.auditLog,
      auditInput({
        app: app.name,
        commit: loaded.snapshot.commit,
        trigger: 'cli',
        mode: 'apply',
        results,
        commitIsNew: previousCommit !== sha,
        ...(revertOf(loaded.snapshot.commit.message)
          ? { revertOf: revertOf(loaded.snapshot.commit.message)! }
          : {}),
      }),
    );
    if (flags.output === 'json') {
      process.stdout.write(JSON.stringify({ commit: sha, app: app.name, objects: results }, null, 2) + '\n');
    } else {
      process.stdout.write(`commit ${sha}\n`);
      for (const r of results) {
        process.stdout.write(
          `${r.status.padEnd(10)} ${formatId(r.id)}${r.message ? `  (${r.message})` : ''}\n`,
        );
        for (const f of r.status === 'conflict' ? r.conflicts : []) {
          process.stdout.write(`    ${formatFieldDrift(f, { color: useColor() })}\n`);
        }
      }
    }
    if (results.some((r) => r.status === 'failed')) process.exitCode = 2;
    return results;
  } finally {
    conn.client.close();
  }
}

export function syncCommand(): Command {
  const cmd = new Command('sync').description(
    'apply the manifests of a Git commit to the cluster with server-side apply',
  );
  addSourceFlags(cmd);
  addClusterFlags(cmd);
  addIgnoreFlags(cmd);
  addAuditFlag(cmd);
  return cmd
    .option(
      '--app <name>',
      'app name, recorded in the tether.dev/app label and the inventory (default: from --path or the repo)',
    )
    .option('--prune', 'delete objects Tether applied for this app before that are no longer in Git')
    .option('--allow-mass-prune', 'let --prune delete more than half of the app at once')
    .option('--force', 'conflict policy force: take over fields other server-side appliers own')
    .option('--recreate', 'delete and recreate objects whose immutable fields changed')
    .addOption(outputOption(['text', 'json']))
    .addHelpText(
      'after',
      `
Every object of the commit is validated and dry-run before the first write; objects that
would not change are not patched. Fields another server-side applier owns with a different
value are conflicts: reported and left alone unless --force. Output: the commit sha, then one
line per object: created, configured, unchanged, conflict, skipped, pruned or failed.

Examples:
  tether sync --repo https://git.example.com/org/deploy.git --ref main --path apps/shop -n shop
  tether sync --repo . --path examples-repo/apps/shop --prune
  TETHER_GIT_PASSWORD=$TOKEN tether sync --repo https://bot@git.example.com/org/deploy.git`,
    )
    .action(async (flags: SyncFlags) => {
      await runSync(flags);
    });
}
