/** `tether diff`: what applying (merging) a ref would do to the live cluster. Writes nothing. */
import { Command } from 'commander';
import { DESCRIPTIONS } from './commands.ts';
import { formatOwnersBrief, markdownReport, unifiedYamlDiff } from '../diff/index.ts';
import { formatId, objectKey, type Manifest } from '../manifests/index.ts';
import { apiVersionOf, exitCodeOf } from '../sync/outcome.ts';
import { loadCommit } from '../sync/pipeline.ts';
import { previewCommit, type Preview } from '../sync/preview.ts';
import { shortSha } from '../util/sha.ts';
import { addAppFlags, type AppFlags } from './app-flags.ts';
import { outputOption, useColor } from './common.ts';
import { serialize } from './result-json.ts';
import { runApp } from './run-app.ts';
import { escapeName } from '../util/escape.ts';

interface DiffFlags extends AppFlags {
  base?: string;
  output: 'text' | 'json' | 'yaml' | 'markdown';
}

export interface Touched {
  change: 'added' | 'modified' | 'removed';
  manifest: Manifest;
}

/** Objects the commit range base..head added, modified or removed, by identity and digest. */
export function touchedObjects(base: Manifest[], head: Manifest[]): Touched[] {
  const before = new Map(base.map((m) => [objectKey(m.id), m]));
  const after = new Map(head.map((m) => [objectKey(m.id), m]));
  const out: Touched[] = [];
  for (const [k, m] of after) {
    const b = before.get(k);
    if (!b) out.push({ change: 'added', manifest: m });
    else if (b.digest !== m.digest) out.push({ change: 'modified', manifest: m });
  }
  for (const [k, m] of before) if (!after.has(k)) out.push({ change: 'removed', manifest: m });
  return out;
}

interface Range {
  baseSha: string;
  touched: Touched[];
}

const title = (p: Preview) => formatId(p.id);

export function yamlDiff(p: Preview, color: boolean, labels: [string, string]): string {
  if (!p.change) return '';
  return unifiedYamlDiff(p.change.before, p.change.after, {
    color,
    labelBefore: labels[0],
    labelAfter: labels[1],
  });
}

function textOut(commit: string, previews: Preview[], range: Range | undefined): string {
  const color = useColor();
  const out = [`commit ${commit}`];
  if (range) {
    out.push(
      `range ${shortSha(range.baseSha)}..${shortSha(commit)} touched ${range.touched.length} object(s):`,
    );
    for (const t of range.touched)
      out.push(`  ${t.change.padEnd(8)} ${formatId(t.manifest.id)}  (${escapeName(t.manifest.source.file)})`);
  }
  for (const p of previews) {
    if (p.status === 'unchanged') continue;
    out.push('', `${p.status} ${title(p)}${p.message ? `  (${p.message})` : ''}`);
    for (const f of p.fields)
      out.push(`  ${f.path}: owned today by ${formatOwnersBrief(f.owners, 'no owner')}`);
    const d = yamlDiff(p, color, [`live/${title(p)}`, `git/${title(p)}`]);
    if (d) out.push(d.replace(/\n$/, ''));
  }
  const changed = previews.filter((p) => p.status !== 'unchanged').length;
  out.push('', changed ? `${changed} object(s) would change` : 'no changes');
  return out.join('\n') + '\n';
}

function jsonOut(
  commit: string,
  previews: Preview[],
  range: Range | undefined,
  format: 'json' | 'yaml',
): string {
  const json = {
    commit,
    ...(range
      ? {
          base: range.baseSha,
          touched: range.touched.map((t) => ({
            change: t.change,
            ...t.manifest.id,
            file: t.manifest.source.file,
            line: t.manifest.source.line,
          })),
        }
      : {}),
    objects: previews.map(previewJson),
  };
  return serialize(json, format);
}

/** One object of `diff -o json` (and of the status page's diff). */
export function previewJson(p: Preview) {
  return {
    apiVersion: apiVersionOf(p.id),
    kind: p.id.kind,
    namespace: p.id.namespace,
    name: p.id.name,
    action: p.status,
    fields: p.fields,
    patch: p.change?.patch ?? [],
    ...(p.message ? { message: p.message } : {}),
  };
}

function markdownOut(commit: string, app: string, previews: Preview[], range: Range | undefined): string {
  const intro = [
    `Commit \`${shortSha(commit)}\`${range ? ` against base \`${shortSha(range.baseSha)}\`` : ''}, app \`${app}\`.`,
  ];
  if (range)
    intro.push(
      '',
      `The range touched ${range.touched.length} object(s): ${range.touched.map((t) => `${t.change} ${formatId(t.manifest.id)}`).join('; ') || 'none'}.`,
    );
  return markdownReport({
    heading: 'Tether diff',
    intro,
    objects: previews.map((p) => ({
      title: title(p),
      action: p.status,
      fields: p.fields,
      diff: yamlDiff(p, false, ['live', 'git']),
      ...(p.message ? { message: p.message } : {}),
    })),
  });
}

export function diffCommand(): Command {
  const cmd = new Command('diff').description(DESCRIPTIONS.diff);
  addAppFlags(cmd);
  return cmd
    .option(
      '--base <revision>',
      'base of the change (e.g. main, HEAD~1, a short sha): also list the objects the range base..ref touched',
    )
    .option('--prune', 'show objects no longer in Git as deletions (as sync --prune would do)')
    .option('--no-prune', "show them as orphans (overrides the config's sync.prune)")
    .option('--adopt', 'preview as sync --adopt would apply: objects of other apps taken over')
    .option(
      '--recreate',
      'preview as sync --recreate would apply: objects whose immutable fields change deleted and created again',
    )
    .addOption(outputOption(['text', 'json', 'yaml', 'markdown']))
    .addHelpText(
      'after',
      `
Every object is server-side dry-run against the live cluster; nothing is written. For each
changed field it says who owns it today. An object whose immutable field changes is shown
as refused (sync would refuse it) or, with --recreate or tether.dev/recreate: "true", as
recreate; the other objects are previewed all the same. Exit codes as kubectl diff: 0 no
differences, 1 differences, 2 error. Markdown is sized for a pull-request comment (at most 60,000
characters, cut cleanly with a note). With --config, the app's ignore rules, destination
and prune setting apply as in the agent.

Examples:
  tether diff --repo . --ref my-branch --base main --path apps/shop -n shop
  tether diff --repo . --base HEAD~1 --path apps/shop -n shop    # what the last commit changes
  tether diff --config tether.yaml --app shop --ref pr-42 --base main -o markdown > comment.md
  tether diff --repo https://git.example.com/org/deploy.git --ref pr-42 --base main --path apps/shop -o markdown`,
    )
    .action(async (flags: DiffFlags) => {
      await runApp(
        flags,
        'diff',
        { progress: flags.output === 'text' },
        async ({ app, loaded, sha, target, endProgress }) => {
          let range: Range | undefined;
          if (flags.base) {
            const base = await loadCommit({ ...app, source: { ...app.source, ref: flags.base } }, undefined, {
              kubeVersion: () => target.discovery.serverVersion(),
            });
            range = {
              baseSha: base.snapshot.commit.sha,
              touched: touchedObjects(base.manifests, loaded.manifests),
            };
          }
          const previews = await previewCommit({
            ...target,
            ignore: app.settings.ignore,
            prune: app.settings.prune,
            adopt: app.settings.adopt,
            recreate: app.settings.recreate,
          });
          endProgress();
          process.stdout.write(
            flags.output === 'json' || flags.output === 'yaml'
              ? jsonOut(sha, previews, range, flags.output)
              : flags.output === 'markdown'
                ? markdownOut(sha, app.name, previews, range)
                : textOut(sha, previews, range),
          );
          process.exitCode = exitCodeOf(previews);
        },
      );
    });
}
