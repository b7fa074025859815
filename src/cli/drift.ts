/** `tether drift`: the live cluster against Git, per field with its owners. Exit 0 / 1 / 2. */
import { Command } from 'commander';
import { DESCRIPTIONS } from './commands.ts';
import { formatFieldDrift, formatOwnersBrief, junitReport, markdownCell as cell } from '../diff/index.ts';
import { formatId } from '../manifests/index.ts';
import { apiVersionOf, differs, exitCodeOf, failed, summarize } from '../sync/outcome.ts';
import { reportDrift, type ReportResult } from '../sync/report.ts';
import { summarize as summarizeHealth } from '../health/index.ts';
import { auditInput } from '../sync/to-audit.ts';
import { shortSha } from '../util/sha.ts';
import { addAppFlags, type AppFlags } from './app-flags.ts';
import { addAuditFlag, appendAudit, outputOption, useColor } from './common.ts';
import { annotations, onGithubActions, writeJobSummary } from './github.ts';
import { resultsJson, serialize } from './result-json.ts';
import { runApp } from './run-app.ts';

interface DriftFlags extends AppFlags {
  auditLog: string;
  output: 'text' | 'json' | 'yaml' | 'markdown' | 'junit';
}

function junit(app: string, results: ReportResult[]): string {
  return junitReport(
    app,
    results.map((r) => ({
      classname: `${apiVersionOf(r.id)} ${r.id.kind}`,
      name: r.id.namespace ? `${r.id.namespace}/${r.id.name}` : r.id.name,
      status: r.status,
      outcome: failed(r.status) ? 'error' : differs(r.status) ? 'failure' : 'pass',
      fields: r.fields,
      ...(r.source ? { file: r.source.file, line: r.source.line } : {}),
      ...(r.message ? { message: r.message } : {}),
    })),
  );
}

function text(commit: string, results: ReportResult[]): string {
  const color = useColor();
  const lines = [`commit ${commit}`];
  for (const r of results) {
    lines.push(`${r.status.padEnd(9)} ${formatId(r.id)}${r.message ? `  (${r.message})` : ''}`);
    for (const f of r.fields) lines.push(`    ${formatFieldDrift(f, { color })}`);
  }
  lines.push(summarize(results), ...healthSummary(results));
  return lines.join('\n') + '\n';
}

/** The app's health (kstatus words) and each object that is not Current, with why. */
function healthSummary(results: ReportResult[]): string[] {
  const judged = results.filter((r) => r.health !== undefined);
  if (judged.length === 0) return [];
  const counts = new Map<string, number>();
  for (const r of judged) counts.set(r.health!.status, (counts.get(r.health!.status) ?? 0) + 1);
  const lines = [
    `health: ${summarizeHealth(judged.map((r) => r.health!))} (${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')})`,
  ];
  for (const r of judged) {
    const h = r.health!;
    if (h.status === 'Current') continue;
    lines.push(
      `    ${h.status.padEnd(11)} ${formatId(r.id)}: ${h.reason ? `${h.reason}: ` : ''}${h.message}`,
    );
  }
  return lines;
}

function markdown(commit: string, results: ReportResult[]): string {
  const lines = [`### Drift at \`${shortSha(commit)}\``, '', summarize(results), ''];
  lines.push('| status | object | field | git | live | changed by |', '|---|---|---|---|---|---|');
  for (const r of results) {
    if (r.status === 'in-sync') continue;
    const rows = r.fields.length ? r.fields : [undefined];
    for (const f of rows) {
      const cells = f
        ? [
            `\`${cell(f.path)}\``,
            JSON.stringify(f.desired),
            JSON.stringify(f.live),
            formatOwnersBrief(f.owners, ''),
          ]
        : ['', '', '', r.message ?? ''];
      lines.push(
        `| ${r.status} | ${cell(formatId(r.id))} | ${cells.map((c, i) => (i === 0 ? c : cell(c))).join(' | ')} |`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

export function driftCommand(): Command {
  const cmd = new Command('drift').description(DESCRIPTIONS.drift);
  addAppFlags(cmd);
  addAuditFlag(cmd);
  return cmd
    .addOption(outputOption(['text', 'json', 'yaml', 'markdown', 'junit']))
    .addHelpText(
      'after',
      `
Writes nothing (reads and server-side dry-runs only). Exit codes as kubectl diff:
0 in sync, 1 drift (drifted, missing, orphaned or conflicting objects), 2 error.
-o json and -o yaml write the same object as sync -o json: commit, app, and per object its
apiVersion, kind, namespace, name, status, manifest file and line, and drifted fields with
their owners. -o junit writes JUnit XML (a test case per object, a failure per drifted one). On GitHub
Actions (GITHUB_ACTIONS=true) it also writes a job summary to $GITHUB_STEP_SUMMARY and a
::warning annotation per drifted object at its manifest's file and line (on stdout, or on
stderr with -o json / yaml / junit so the report stays parseable). With --config, the app's
ignore rules, destination and allowed namespaces apply as in the agent.

Examples:
  tether drift --repo https://git.example.com/org/deploy.git --path apps/shop -n shop
  tether drift --config tether.yaml --app shop -o junit > drift.xml
  tether drift --repo . --path examples-repo/apps/shop -o json | jq '.objects[] | select(.status != "in-sync")'`,
    )
    .action(async (flags: DriftFlags) => {
      await runApp(
        flags,
        'drift',
        { progress: flags.output === 'text' },
        async ({ app, loaded, sha, target, endProgress }) => {
          const results = await reportDrift({ ...target, ignore: app.settings.ignore });
          endProgress();
          const out =
            flags.output === 'json' || flags.output === 'yaml'
              ? serialize(resultsJson(sha, app.name, results), flags.output)
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
              flags.output === 'text' || flags.output === 'markdown' ? process.stdout : process.stderr;
            for (const line of annotations(results)) stream.write(line + '\n');
          }
          process.exitCode = exitCodeOf(results);
        },
      );
    });
}
