/**
 * JUnit XML for CI systems: one test case per object, a failure per drifted, missing,
 * orphaned or conflicting object (its fields in the body), an error per object Tether could
 * not evaluate.
 */
import type { FieldDrift } from './drift.ts';
import { formatDriftValues, formatOwner } from './format-text.ts';

export interface JunitCase {
  /** e.g. `apps/v1 Deployment` */
  classname: string;
  /** e.g. `shop/web` */
  name: string;
  status: string;
  /** failure: a difference from Git; error: could not be evaluated; pass: in sync. */
  outcome: 'pass' | 'failure' | 'error';
  fields: FieldDrift[];
  file?: string;
  line?: number;
  message?: string;
}

export function xmlEscape(text: string): string {
  return (
    text
      .replaceAll('&', '&amp;')
      .replaceAll('<', '&lt;')
      .replaceAll('>', '&gt;')
      .replaceAll('"', '&quot;')
      .replaceAll("'", '&apos;')
      // Control characters are not allowed in XML 1.0 at all.
      // eslint-disable-next-line no-control-regex -- matching them is the point
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
  );
}

function body(c: JunitCase): string {
  const lines = c.fields.map((f) => {
    const [git, live] = formatDriftValues(f.desired, f.live);
    return `${f.path}: git ${git}, live ${live}; ${f.owners.map(formatOwner).join(', ') || 'no owner'}`;
  });
  if (c.message) lines.push(c.message);
  return lines.join('\n');
}

export function junitReport(suite: string, cases: JunitCase[], timestamp = new Date()): string {
  const failures = cases.filter((c) => c.outcome === 'failure').length;
  const errors = cases.filter((c) => c.outcome === 'error').length;
  const attrs = `tests="${cases.length}" failures="${failures}" errors="${errors}"`;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="tether drift" ${attrs}>`,
    `  <testsuite name="${xmlEscape(suite)}" ${attrs} timestamp="${timestamp.toISOString().replace(/\.\d+Z$/, '')}">`,
  ];
  for (const c of cases) {
    const where = `${c.file ? ` file="${xmlEscape(c.file)}"` : ''}${c.line ? ` line="${c.line}"` : ''}`;
    const open = `    <testcase classname="${xmlEscape(c.classname)}" name="${xmlEscape(c.name)}"${where}`;
    if (c.outcome === 'failure') {
      const message = `${c.status}${c.fields.length ? `: ${c.fields.length} field(s)` : ''}`;
      out.push(
        `${open}>`,
        `      <failure type="${c.status}" message="${xmlEscape(message)}">${xmlEscape(body(c))}</failure>`,
        '    </testcase>',
      );
    } else if (c.outcome === 'error') {
      out.push(
        `${open}>`,
        `      <error type="${xmlEscape(c.status)}" message="${xmlEscape(c.message ?? 'error')}"/>`,
        '    </testcase>',
      );
    } else {
      out.push(`${open}/>`);
    }
  }
  out.push('  </testsuite>', '</testsuites>', '');
  return out.join('\n');
}
