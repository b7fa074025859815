/**
 * GitHub Actions: when GITHUB_ACTIONS=true, a job summary ($GITHUB_STEP_SUMMARY) and one
 * `::warning` annotation per drifted object, pointing at its manifest file and line.
 */
import { appendFileSync } from 'node:fs';
import { formatId } from '../manifests/index.ts';
import { differs, failed, type ObjectResult } from '../sync/outcome.ts';
import { escapeName } from '../util/escape.ts';

/** Workflow-command escaping of a property value or message (GitHub's own rules). */
function escapeData(s: string): string {
  return s.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}
function escapeProperty(s: string): string {
  return escapeData(s).replaceAll(':', '%3A').replaceAll(',', '%2C');
}

export function annotations(results: ObjectResult[]): string[] {
  return results
    .filter((r) => differs(r.status) || failed(r.status))
    .map((r) => {
      const level = failed(r.status) ? 'error' : 'warning';
      const props = [
        ...(r.source ? [`file=${escapeProperty(escapeName(r.source.file))}`, `line=${r.source.line}`] : []),
        `title=${escapeProperty(`${r.status}: ${formatId(r.id)}`)}`,
      ];
      const detail = r.fields
        .map((f) => `${f.path} (${f.owners.map((o) => o.manager).join(', ') || 'no owner'})`)
        .join('; ');
      return `::${level} ${props.join(',')}::${escapeData(`${formatId(r.id)} is ${r.status}${detail ? `: ${detail}` : ''}${r.message ? ` (${r.message})` : ''}`)}`;
    });
}

export function onGithubActions(): boolean {
  return process.env.GITHUB_ACTIONS === 'true';
}

export function writeJobSummary(markdown: string): void {
  const file = process.env.GITHUB_STEP_SUMMARY;
  if (file) appendFileSync(file, markdown.endsWith('\n') ? markdown : markdown + '\n');
}
