/** `tether drift`: the live cluster against Git, per field with its owners. Exit 0 / 1 / 2. */
import { Command } from 'commander';
import { terminalProgress } from './progress.ts';
import { formatFieldDrift, junitReport } from '../diff/index.ts';
import { annotations, onGithubActions, writeJobSummary } from './github.ts';
import { formatId } from '../manifests/index.ts';
import { connect, loadCommit, planFor } from '../sync/pipeline.ts';
import { reportDrift } from '../sync/report.ts';
import { apiVersionOf, type ObjectResult } from '../sync/result.ts';
import {
  addAuditFlag,
  addClusterFlags,
  addSourceFlags,
  appendAudit,
  outputOption,
  useColor,
} from './common.ts';
import { auditInput } from '../sync/to-audit.ts';
import { addIgnoreFlags, ignoreRulesFromFlags, targetFromFlags, type TargetFlags } from './target.ts';

interface DriftFlags extends TargetFlags {
  auditLog: string;
  output: 'text' | 'json' | 'markdown' | 'junit';
}

function junit(app: string, results: ObjectResult[]): string {
  return junitReport(
    app,
    results.map((r) => ({
      classname: `${apiVersionOf(r.id)} ${r.id.kind}`,
      name: r.id.namespace ? `${r.id.namespace}/${r.id.name}` : r.id.name,
      status: r.status,
      fields: r.fields,
      ...(r.source ? { file: r.source.file, line: r.source.line } : {}),
      ...(r.message ? { message: r.message } : {}),
    })),
  );
}

/** The `drift -o json` contract of DESIGN.md. */
export function driftJson(commit: string, results: ObjectResult[]): unknown {
  return {
    commit,
    objects: results.map((r) => ({
      apiVersion: apiVersionOf(r.id),
      kind: r.id.kind,
      namespace: r.id.namespace,
      name: r.id.name,
      status: r.status,
      fields: r.fields.map((f) => ({
        path: f.path,
        desired: f.desired,
        live: f.live,
        owners: f.owners.map((o) => ({ manager: o.manager, operation: o.operation, time: o.time ?? null })),
      })),
      ...(r.message ? { message: r.message } : {}),
    })),
  };
}

export function driftExitCode(results: ObjectResult[]): number {
  if (results.some((r) => r.status === 'error')) return 2;
  return results.some((r) => r.status !== 'in-sync') ? 1 : 0;
}

function summary(results: ObjectResult[]): string {
  const counts = new Map<string, number>();
  for (const r of results) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n} ${s}`).join(', ') || 'no objects';
}

function text(commit: string, results: ObjectResult[]): string {
  const color = useColor();
  const lines = [`commit ${commit}`];
  for (const r of results) {
    lines.push(`${r.status.padEnd(9)} ${formatId(r.id)}${r.message ? `  (${r.message})` : ''}`);
    for (const f of r.fields) lines.push(`    ${formatFieldDrift(f, { color })}`);
  }
  lines.push(summary(results));
  return lines.join('\n') + '\n';
}

function markdown(commit: string, results: ObjectResult[]): string {
  const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const lines = [`### Drift at \`${commit.slice(0, 7)}\``, '', summary(results), ''];
  lines.push('| status | object | field | git | live | changed by |', '|---|---|---|---|---|---|');
  for (const r of results) {
    if (r.status === 'in-sync') continue;
    const rows = r.fields.length ? r.fields : [undefined];
    for (const f of rows) {
      lines.push(
        `| ${r.status} | ${cell(formatId(r.id))} | ${f ? `\`${cell(f.path)}\`` : ''} | ${f ? cell(JSON.stringify(f.desired)) : ''} | ${
          f ? cell(JSON.stringify(f.live)) : ''
        } | ${f ? cell(f.owners.map((o) => `${o.manager} (${o.operation})`).join(', ')) : cell(r.message ?? '')} |`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

export function driftCommand(): Command {
  const cmd = new Command('drift').description(
    'report how the live cluster differs from Git, and who changed each field',
  );
  addSourceFlags(cmd);
  addClusterFlags(cmd);
  addIgnoreFlags(cmd);
  addAuditFlag(cmd);
  return cmd
    .option('--app <name>', 'app name (selects its inventory, to report orphaned objects)')
    .addOption(outputOption(['text', 'json', 'markdown', 'junit']))
    .addHelpText(
      'after',
      `
Writes nothing (reads and server-side dry-runs only). Exit codes as kubectl diff:
0 in sync, 1 drift (drifted, missing, orphaned or conflicting objects), 2 error.
-o junit writes JUnit XML (a test case per object, a failure per drifted one). On GitHub
Actions (GITHUB_ACTIONS=true) it also writes a job summary to $GITHUB_STEP_SUMMARY and a
::warning annotation per drifted object at its manifest's file and line (on stdout, or on
stderr with -o json / -o junit so the report stays parseable).

Examples:
  tether drift --repo https://git.example.com/org/deploy.git --path apps/shop -n shop
  tether drift --repo . --path examples-repo/apps/shop -o json | jq '.objects[] | select(.status != "in-sync")'`,
    )
    .action(async (flags: DriftFlags) => {
      const app = targetFromFlags(flags, 'drift');
      const loaded = await loadCommit(app);
      const sha = loaded.snapshot.commit.sha;
      const conn = await connect({ kubeconfig: flags.kubeconfig, context: flags.context });
      const progress = terminalProgress(flags.output === 'text');
      try {
        const results = await reportDrift({
          onProgress: progress.report,
          ...conn,
          plan: planFor(app, loaded, conn),
          app: app.name,
          namespace: app.namespace,
          ignore: ignoreRulesFromFlags(flags),
        });
        progress.end();
        const out =
          flags.output === 'json'
            ? JSON.stringify(driftJson(sha, results), null, 2) + '\n'
            : flags.output === 'markdown'
              ? markdown(sha, results)
              : flags.output === 'junit'
                ? junit(app.name, results)
                : text(sha, results);
        await appendAudit(
          flags.auditLog,
          auditInput({
            app: app.name,
            commit: loaded.snapshot.commit,
            trigger: 'cli',
            mode: 'report',
            results,
            commitIsNew: false,
          }),
        );
        process.stdout.write(out);
        if (onGithubActions()) {
          writeJobSummary(markdown(sha, results));
          const stream =
            flags.output === 'json' || flags.output === 'junit' ? process.stderr : process.stdout;
          for (const line of annotations(results)) stream.write(line + '\n');
        }
        process.exitCode = driftExitCode(results);
      } finally {
        conn.client.close();
      }
    });
}
