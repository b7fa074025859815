import { describe, expect, it } from 'vitest';
import { markdownReport, type MarkdownObject } from '../../../src/diff/index.ts';

const obj = (i: number, diffLines = 5): MarkdownObject => ({
  title: `v1 ConfigMap ns/cm-${i}`,
  action: 'update',
  fields: [
    {
      path: '.data.key',
      desired: 'new',
      live: 'old',
      owners: [{ manager: 'kubectl-edit', operation: 'Update' }],
    },
  ],
  diff: Array.from({ length: diffLines }, (_, j) => `-old ${j}\n+new ${j}`).join('\n') + '\n',
});

describe('markdownReport', () => {
  it('renders a summary table and one details block per changed object', () => {
    const md = markdownReport({
      heading: 'Tether diff',
      intro: ['x'],
      objects: [obj(1), obj(2), { ...obj(3), action: 'unchanged', fields: [], diff: '' }],
    });
    expect(md).toContain('| update | unchanged |');
    expect(md.match(/<details>/g)).toHaveLength(2);
    expect(md).toContain('| `.data.key` | `"new"` | `"old"` | kubectl-edit (Update) |');
    expect(md).toContain('```diff\n-old 0');
    // A blank line must separate the table from the first details block, or GitHub merges them.
    expect(md).toMatch(/\| 1 \|\n\n<details>/);
  });

  it('cuts cleanly before the limit and says how many sections are missing', () => {
    const objects = Array.from({ length: 400 }, (_, i) => obj(i, 40));
    const md = markdownReport({ heading: 'Tether diff', intro: [], objects, maxChars: 60_000 });
    expect(md.length).toBeLessThanOrEqual(60_000);
    const shown = md.match(/<details>/g)?.length ?? 0;
    expect(shown).toBeGreaterThan(0);
    expect(md).toContain(`> ${400 - shown} more object section(s) not shown`);
    expect(md.match(/<details>/g)?.length).toBe(md.match(/<\/details>/g)?.length);
  });

  it('says so when nothing changes', () => {
    expect(
      markdownReport({ heading: 'h', intro: [], objects: [{ ...obj(1), action: 'unchanged' }] }),
    ).toContain('No changes.');
  });
});
