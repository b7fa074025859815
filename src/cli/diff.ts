/** `tether diff`: what applying (merging) a ref would do to the live cluster. Writes nothing. */
import { Command } from 'commander';
import { markdownReport, unifiedYamlDiff } from '../diff/index.ts';
import { formatId, objectKey, type Manifest } from '../manifests/index.ts';
import { connect, loadCommit, planFor, type AppTarget } from '../sync/pipeline.ts';
import { previewCommit, type Preview } from '../sync/preview.ts';
import { apiVersionOf } from '../sync/result.ts';
import { addClusterFlags, addSourceFlags, outputOption, useColor } from './common.ts';
import { terminalProgress } from './progress.ts';
import { addIgnoreFlags, ignoreRulesFromFlags, targetFromFlags, type TargetFlags } from './target.ts';

interface DiffFlags extends TargetFlags {
  base?: string;
  prune?: boolean;
  output: 'text' | 'json' | 'markdown';
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

const title = (p: Preview) => formatId(p.id);

function textOut(
  commit: string,
  previews: Preview[],
  touched: Touched[] | undefined,
  baseSha: string | undefined,
): string {
  const color = useColor();
  const out = [`commit ${commit}`];
  if (touched && baseSha) {
    out.push(`range ${baseSha.slice(0, 7)}..${commit.slice(0, 7)} touched ${touched.length} object(s):`);
    for (const t of touched)
      out.push(`  ${t.change.padEnd(8)} ${formatId(t.manifest.id)}  (${t.manifest.source.file})`);
  }
  for (const p of previews) {
    if (p.action === 'unchanged') continue;
    out.push('', `${p.action} ${title(p)}${p.message ? `  (${p.message})` : ''}`);
    for (const f of p.fields) {
      const owners = f.owners.map((o) => `${o.manager} (${o.operation})`).join(', ') || 'no owner';
      out.push(`  ${f.path}: owned today by ${owners}`);
    }
    const d = unifiedYamlDiff(p.before, p.after, {
      color,
      labelBefore: `live/${title(p)}`,
      labelAfter: `git/${title(p)}`,
    });
    if (d) out.push(d.replace(/\n$/, ''));
  }
  const changed = previews.filter((p) => p.action !== 'unchanged').length;
  out.push('', changed ? `${changed} object(s) would change` : 'no changes');
  return out.join('\n') + '\n';
}

export function diffCommand(): Command {
  const cmd = new Command('diff').description(
    'show what applying a Git ref would change in the live cluster (server-side dry-run)',
  );
  addSourceFlags(cmd);
  addClusterFlags(cmd);
  addIgnoreFlags(cmd);
  return cmd
    .option(
      '--base <ref>',
      'base ref of the change (e.g. main): also list the objects the range base..ref touched',
    )
    .option('--app <name>', 'app name (selects its inventory, to show what would be pruned)')
    .option('--prune', 'show objects no longer in Git as deletions (as sync --prune would do)')
    .addOption(outputOption(['text', 'json', 'markdown']))
    .addHelpText(
      'after',
      `
Every object is server-side dry-run against the live cluster; nothing is written. For each
changed field it says who owns it today. Exit codes as kubectl diff: 0 no differences,
1 differences, 2 error. Markdown is sized for a pull-request comment (at most 60,000
characters, cut cleanly with a note).

Examples:
  tether diff --repo . --ref my-branch --base main --path apps/shop -n shop
  tether diff --repo https://git.example.com/org/deploy.git --ref pr-42 --base main --path apps/shop -o markdown > comment.md`,
    )
    .action(async (flags: DiffFlags) => {
      const app: AppTarget = targetFromFlags(flags, 'diff');
      const loaded = await loadCommit(app);
      const sha = loaded.snapshot.commit.sha;
      let touched: Touched[] | undefined;
      let baseSha: string | undefined;
      if (flags.base) {
        const base = await loadCommit({ ...app, source: { ...app.source, ref: flags.base } });
        baseSha = base.snapshot.commit.sha;
        touched = touchedObjects(base.manifests, loaded.manifests);
      }
      const conn = await connect({ kubeconfig: flags.kubeconfig, context: flags.context });
      const progress = terminalProgress(flags.output === 'text');
      try {
        const previews = await previewCommit({
          onProgress: progress.report,
          ...conn,
          plan: planFor(app, loaded, conn),
          commit: sha,
          app: app.name,
          namespace: app.namespace,
          ignore: ignoreRulesFromFlags(flags),
          prune: Boolean(flags.prune),
        });
        progress.end();
        if (flags.output === 'json') {
          const json = {
            commit: sha,
            ...(baseSha ? { base: baseSha } : {}),
            ...(touched
              ? {
                  touched: touched.map((t) => ({
                    change: t.change,
                    ...t.manifest.id,
                    file: t.manifest.source.file,
                    line: t.manifest.source.line,
                  })),
                }
              : {}),
            objects: previews.map((p) => ({
              apiVersion: apiVersionOf(p.id),
              kind: p.id.kind,
              namespace: p.id.namespace,
              name: p.id.name,
              action: p.action,
              fields: p.fields,
              patch: p.patch,
              ...(p.message ? { message: p.message } : {}),
            })),
          };
          process.stdout.write(JSON.stringify(json, null, 2) + '\n');
        } else if (flags.output === 'markdown') {
          const intro = [
            `Commit \`${sha.slice(0, 7)}\`${baseSha ? ` against base \`${baseSha.slice(0, 7)}\`` : ''}, app \`${app.name}\`.`,
          ];
          if (touched)
            intro.push(
              '',
              `The range touched ${touched.length} object(s): ${touched.map((t) => `${t.change} ${formatId(t.manifest.id)}`).join('; ') || 'none'}.`,
            );
          process.stdout.write(
            markdownReport({
              heading: 'Tether diff',
              intro,
              objects: previews.map((p) => ({
                title: title(p),
                action: p.action,
                fields: p.fields,
                diff: unifiedYamlDiff(p.before, p.after, {
                  color: false,
                  labelBefore: 'live',
                  labelAfter: 'git',
                }),
                ...(p.message ? { message: p.message } : {}),
              })),
            }),
          );
        } else {
          process.stdout.write(textOut(sha, previews, touched, baseSha));
        }
        process.exitCode = previews.some((p) => p.action !== 'unchanged') ? 1 : 0;
      } finally {
        conn.client.close();
      }
    });
}
