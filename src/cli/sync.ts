/** `tether sync`: read a commit, validate it, server-side apply it, print what happened. */
import { Command } from 'commander';
import { DESCRIPTIONS } from './commands.ts';
import { formatFieldDrift } from '../diff/index.ts';
import { formatId } from '../manifests/index.ts';
import { AuditLog } from '../audit/index.ts';
import { chainIdOf, writeAnchor } from '../cluster/audit-anchor.ts';
import { redactUrl } from '../errors.ts';
import type { App } from '../sync/app.ts';
import type { Connection } from '../sync/pipeline.ts';
import { applyAudited, recoverIntents } from '../sync/write-ahead.ts';
import { failed } from '../sync/outcome.ts';
import { auditInput } from '../sync/to-audit.ts';
import { addAppFlags, type AppFlags } from './app-flags.ts';
import { addAuditFlag, outputOption, useColor } from './common.ts';
import { UsageError } from './output.ts';
import { healthJson, resultsJson, serialize } from './result-json.ts';
import { runApp } from './run-app.ts';
import { appliedObjects, healthLines, healthRecord, waitForHealth } from './wait-health.ts';
import { parseDuration } from '../config/duration.ts';
import { auditCommit } from '../sync/to-audit.ts';
import type { WaitResult } from '../sync/wait.ts';

interface SyncFlags extends AppFlags {
  auditLog: string;
  output: 'text' | 'json' | 'yaml';
  wait?: boolean;
  timeout: string;
}

/** The log's head anchored on the app's inventory; a failure is reported, not fatal (the record is written). */
async function anchorHead(
  conn: Connection,
  app: App,
  firstHash: string | undefined,
  record: { seq: number; hash: string },
): Promise<void> {
  if (!firstHash) return;
  try {
    await writeAnchor(conn.client, conn.discovery, {
      app: app.name,
      namespace: app.destination.namespace,
      chain: chainIdOf(firstHash),
      seq: record.seq,
      hash: record.hash,
    });
  } catch (e) {
    process.stderr.write(
      `warning: could not anchor the audit log head in the cluster: ${redactUrl(String(e))}\n`,
    );
  }
}

export async function runSync(flags: SyncFlags): Promise<void> {
  await runApp(
    flags,
    'sync',
    { progress: flags.output === 'text' },
    async ({ app, loaded, sha, conn, target, plan, endProgress }) => {
      const timeoutMs = parseDuration(flags.timeout);
      if (app.mode === 'report')
        throw new UsageError(
          `app ${app.name} is in report mode (sync.mode: report in ${flags.config}): sync would write`,
          {
            hint: `run tether drift --config ${flags.config} --app ${app.name} to report, or set sync.mode: apply`,
          },
        );
      // Opened before anything is written: no write when the log cannot be appended to.
      const log = await AuditLog.open(flags.auditLog);
      let outcome;
      let health: WaitResult | undefined;
      try {
        await recoverIntents(log, conn, app.name, app.destination.namespace);
        outcome = await applyAudited({
          ...target,
          settings: app.settings,
          log,
          commitInfo: loaded.snapshot.commit,
          trigger: 'cli',
        });
        endProgress();
        const record = auditInput({
          app: app.name,
          commit: loaded.snapshot.commit,
          trigger: 'cli',
          mode: 'apply',
          results: outcome.results,
          commitIsNew: outcome.previousCommit !== sha,
        });
        const written = await log.append(outcome.gate.complete(record));
        await anchorHead(conn, app, log.firstHash, written);
        if (flags.wait && !outcome.results.some((r) => failed(r.status))) {
          health = await waitForHealth(conn, appliedObjects(plan, outcome.results), timeoutMs);
          endProgress();
          await log.append(healthRecord(app, auditCommit(loaded.snapshot.commit), health));
        }
      } finally {
        await log.close();
      }
      const { results } = outcome;
      if (flags.output === 'json' || flags.output === 'yaml') {
        const json = resultsJson(sha, app.name, results, health?.objects);
        process.stdout.write(
          serialize(health ? { ...json, health: healthJson(health) } : json, flags.output),
        );
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
      if (health && flags.output === 'text')
        for (const line of healthLines(health, timeoutMs)) process.stdout.write(`${line}\n`);
      // 2: objects failed; 3: applied, but conflicts (another applier's fields, another app's
      // objects) were left unresolved; 1 (--wait): applied, but not healthy in time.
      if (results.some((r) => failed(r.status))) process.exitCode = 2;
      else if (results.some((r) => r.status === 'conflict')) process.exitCode = 3;
      else if (health && health.status !== 'Current') process.exitCode = 1;
    },
  );
}

export function syncCommand(): Command {
  const cmd = new Command('sync').description(DESCRIPTIONS.sync);
  addAppFlags(cmd);
  addAuditFlag(cmd);
  return cmd
    .option('--prune', 'delete objects Tether applied for this app before that are no longer in Git')
    .option('--no-prune', "keep them (overrides the config's sync.prune)")
    .option('--allow-mass-prune', 'let --prune delete more than half of the app at once')
    .option('--force', 'conflict policy force: take over fields other server-side appliers own')
    .option('--recreate', 'delete and recreate objects whose immutable fields changed')
    .option(
      '--wait',
      'after applying, wait until every applied object is healthy (Current); exit 1 naming each Failed or timed-out object',
    )
    .option('--timeout <duration>', 'how long --wait waits (e.g. 90s, 5m)', '5m')
    .option(
      '--wave-timeout <duration>',
      "how long each tether.dev/sync-wave may take to become healthy before later waves are given up (default: the config's sync.waveTimeout, 5m)",
    )
    .option(
      '--adopt',
      'take over objects another Tether app applied (else they are refused; tether.dev/adopt: "true" does it per object)',
    )
    .addOption(outputOption(['text', 'json', 'yaml']))
    .addHelpText(
      'after',
      `
Every object of the commit is validated and dry-run before the first write; objects that
would not change are not patched. Fields another server-side applier owns with a different
value are conflicts: reported and left alone unless --force. An object another Tether app
applied is refused (a conflict naming both apps) unless --adopt or tether.dev/adopt: "true".
Output: the commit sha, then one line per object: created, configured, unchanged, conflict,
skipped, pruned or failed. -o json and -o yaml write the same object as drift -o json
(commit, app, per object its status, manifest file and line, and changed or conflicting
fields with their owners). Exit codes: 0 applied, 2 error (nothing or part written),
3 applied but conflicts left unresolved, 1 (--wait) applied but not healthy in time.

--wait reads the applied objects until each is Current, as kubectl rollout status does:
Deployments, StatefulSets and DaemonSets rolled out and available, Jobs complete, Pods
ready, PVCs bound, CRDs established, anything with a Ready condition ready. It stops early
when every object that is not Current has Failed (a Deployment past its progress deadline,
a crash-looping Pod, a failed Job), prints each with its reason, and records the outcome
(healthy or degraded) in the audit log after the apply record.

Objects annotated tether.dev/sync-wave: "N" are applied wave by wave, and a wave followed by a
higher one must be healthy first (as Argo CD's waves): a wave with a Failed object, or one
not Current within --wave-timeout, stops the sync (exit 2) and later waves are not applied.

Jobs and Pods annotated tether.dev/hook: pre-sync | sync | post-sync | sync-fail (or Argo
CD's argocd.argoproj.io/hook, Helm's helm.sh/hook install and upgrade hooks) are hooks: for a
commit new to the cluster they are created in their phase, waited for (--wave-timeout) and
deleted by tether.dev/hook-delete-policy (before-hook-creation by default, hook-succeeded,
hook-failed). A failed pre-sync hook stops the sync (exit 2) before anything is applied and
runs the sync-fail hooks. Hooks are never in the app's inventory, nor pruned.

With --config, the app runs exactly as the agent runs it: its source and credentials, its
destination and allowed namespaces, its ignore rules, prune guard and conflict policy;
flags given as well override the config.

Examples:
  tether sync --repo https://git.example.com/org/deploy.git --ref main --path apps/shop -n shop
  tether sync --repo . --path examples-repo/apps/shop --prune
  tether sync --config tether.yaml --app shop
  tether sync --config tether.yaml --app shop --ref my-branch
  tether sync --config tether.yaml --app shop --wait --timeout 3m
  TETHER_GIT_PASSWORD=$TOKEN tether sync --repo https://bot@git.example.com/org/deploy.git
  tether sync --repo git@git.example.com:org/deploy.git --ssh-key deploy-key --known-hosts known_hosts --path apps/shop`,
    )
    .action(async (flags: SyncFlags) => {
      await runSync(flags);
    });
}
