/**
 * Markdown for pull-request comments: a summary table, then one collapsible section per
 * object with its changed fields (and who owns them today) and its YAML diff. Cut cleanly,
 * with a note, before the comment would pass the size limit (GitHub allows 65,536).
 */
import type { FieldDrift } from './drift.ts';
import { formatOwnersBrief } from './format-text.ts';

export interface MarkdownObject {
  /** e.g. `apps/v1 Deployment shop/web` */
  title: string;
  action: string;
  fields: FieldDrift[];
  /** Unified YAML diff without colour ('' for none). */
  diff: string;
  message?: string;
}

export interface MarkdownReport {
  heading: string;
  /** Lines under the heading (commit, base, range). */
  intro: string[];
  objects: MarkdownObject[];
  maxChars?: number;
}

/** Text made safe for one Markdown table cell. */
export const markdownCell = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
const cell = markdownCell;
const code = (s: string): string => `\`${s.replaceAll('`', "'")}\``;
const value = (v: unknown): string => (v === null || v === undefined ? '_absent_' : code(JSON.stringify(v)));

function details(o: MarkdownObject): string {
  const parts = [`<details><summary><b>${o.action}</b> ${cell(o.title)}</summary>`, ''];
  if (o.message) parts.push(`_${cell(o.message)}_`, '');
  if (o.fields.length) {
    parts.push('| field | git | live | owned today by |', '|---|---|---|---|');
    for (const f of o.fields)
      parts.push(
        `| ${code(f.path)} | ${value(f.desired)} | ${value(f.live)} | ${cell(formatOwnersBrief(f.owners, '_none_'))} |`,
      );
    parts.push('');
  }
  if (o.diff) parts.push('```diff', o.diff.replace(/\n$/, '').replaceAll('```', "'''"), '```', '');
  parts.push('</details>', '');
  return parts.join('\n');
}

export function markdownReport(r: MarkdownReport): string {
  const max = r.maxChars ?? 60_000;
  const counts = new Map<string, number>();
  for (const o of r.objects) counts.set(o.action, (counts.get(o.action) ?? 0) + 1);
  const changed = r.objects.filter((o) => o.action !== 'unchanged');
  const head = [`### ${r.heading}`, '', ...r.intro, ''];
  head.push(
    '| ' + [...counts.keys()].join(' | ') + ' |',
    '|' + [...counts.keys()].map(() => '---:|').join(''),
    '| ' + [...counts.values()].join(' | ') + ' |',
    '',
  );
  if (changed.length === 0) return [...head, 'No changes.', ''].join('\n');
  head.push('| | object | fields changed |', '|---|---|---|');
  for (const o of changed) head.push(`| ${o.action} | ${cell(o.title)} | ${o.fields.length || ''} |`);
  head.push('');
  let out = head.join('\n') + '\n';
  const note = (n: number) =>
    `\n> ${n} more object section(s) not shown: the comment would pass ${max.toLocaleString('en')} characters. Run \`tether diff\` locally for the full diff.\n`;
  if (out.length > max) return out.slice(0, max - 200).replace(/\n[^\n]*$/, '') + note(changed.length);
  for (let i = 0; i < changed.length; i++) {
    const block = details(changed[i]!);
    if (out.length + block.length + note(changed.length - i).length > max)
      return out + note(changed.length - i);
    out += block;
  }
  return out;
}
