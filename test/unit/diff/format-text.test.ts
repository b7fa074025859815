import { describe, expect, it } from 'vitest';
import {
  diffLines,
  formatDriftValues,
  formatFieldDrift,
  formatOwner,
  unifiedYamlDiff,
} from '../../../src/diff/index.ts';

const opts = { color: false, labelBefore: 'live', labelAfter: 'git' };

describe('unifiedYamlDiff', () => {
  it('writes a unified diff of the YAML with 3 lines of context', () => {
    const before = { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10, k: 11, l: 12 };
    const after = { ...before, b: 20, k: 110 };
    expect(unifiedYamlDiff(before, after, opts)).toBe(
      [
        '--- live',
        '+++ git',
        '@@ -1,5 +1,5 @@',
        ' a: 1',
        '-b: 2',
        '+b: 20',
        ' c: 3',
        ' d: 4',
        ' e: 5',
        '@@ -8,5 +8,5 @@',
        ' h: 8',
        ' i: 9',
        ' j: 10',
        '-k: 11',
        '+k: 110',
        ' l: 12',
        '',
      ].join('\n'),
    );
    // Six unchanged lines between two changes still make one hunk (as GNU diff does).
    const near = unifiedYamlDiff(before, { ...before, b: 20, i: 90 }, opts);
    expect(near.split('\n').filter((l) => l.startsWith('@@'))).toEqual(['@@ -1,12 +1,12 @@']);
  });

  it('merges nearby changes into one hunk and honours the context option', () => {
    const before = { a: 1, b: 2, c: 3, d: 4 };
    const after = { a: 10, b: 2, c: 3, d: 40 };
    const out = unifiedYamlDiff(before, after, { ...opts, context: 1 });
    expect(out.split('\n').filter((l) => l.startsWith('@@'))).toEqual(['@@ -1,4 +1,4 @@']);
    const zero = unifiedYamlDiff(before, after, { ...opts, context: 0 });
    expect(zero.split('\n').filter((l) => l.startsWith('@@'))).toEqual(['@@ -1 +1 @@', '@@ -4 +4 @@']);
  });

  it('returns "" for equal objects and whole-file hunks for a missing side', () => {
    expect(unifiedYamlDiff({ a: [1] }, { a: [1] }, opts)).toBe('');
    expect(unifiedYamlDiff(undefined, { a: 1, b: 2 }, opts)).toBe(
      '--- live\n+++ git\n@@ -0,0 +1,2 @@\n+a: 1\n+b: 2\n',
    );
    expect(unifiedYamlDiff({ a: 1 }, undefined, opts)).toBe('--- live\n+++ git\n@@ -1 +0,0 @@\n-a: 1\n');
  });

  it('colours only when asked', () => {
    const out = unifiedYamlDiff({ a: 1 }, { a: 2 }, { ...opts, color: true });
    expect(out).toContain('\x1b[31m-a: 1\x1b[0m');
    expect(out).toContain('\x1b[32m+a: 2\x1b[0m');
    expect(unifiedYamlDiff({ a: 1 }, { a: 2 }, opts)).not.toContain('\x1b');
  });

  it('keeps long strings on one line and multi-line strings as blocks', () => {
    const long = 'x'.repeat(200);
    const out = unifiedYamlDiff({ s: long, t: 'a\nb\n' }, { s: long + 'y', t: 'a\nc\n' }, opts);
    expect(out).toContain(`+s: ${long}y\n`);
    expect(out).toContain('-  b\n+  c\n');
  });

  it('never shows Secret values, but shows which changed', () => {
    const s = { kind: 'Secret', data: { a: 'c2VjcmV0', b: 'c2FtZQ==' } };
    const out = unifiedYamlDiff(s, { ...s, data: { a: 'bmV3', b: 'c2FtZQ==' } }, opts);
    expect(out).not.toMatch(/c2VjcmV0|bmV3|c2FtZQ/);
    expect(out).toContain('-  a: "***"\n+  a: "*** (changed)"\n');
  });
});

describe('diffLines', () => {
  it('finds a minimal edit script', () => {
    const a = 'a b c a b b a'.split(' ');
    const b = 'c b a b a c'.split(' ');
    const ops = diffLines(a, b);
    expect(ops.filter((o) => o.op !== ' ')).toHaveLength(5);
    expect(ops.filter((o) => o.op !== '+').map((o) => o.line)).toEqual(a);
    expect(ops.filter((o) => o.op !== '-').map((o) => o.line)).toEqual(b);
  });

  it('handles large inputs', () => {
    const a = Array.from({ length: 3000 }, (_, i) => `line ${i}`);
    const b = a.filter((_, i) => i % 100 !== 0).concat(['tail']);
    const ops = diffLines(a, b);
    expect(ops.filter((o) => o.op === '-')).toHaveLength(30);
    expect(ops.filter((o) => o.op === '+')).toHaveLength(1);
  });
});

describe('drift lines', () => {
  it('formats a field with values and owners', () => {
    expect(
      formatFieldDrift(
        {
          path: '.spec.replicas',
          desired: 2,
          live: 5,
          owners: [
            { manager: 'kubectl', operation: 'Update', subresource: 'scale', time: '2026-03-02T10:05:12Z' },
          ],
        },
        { color: false },
      ),
    ).toBe(
      '.spec.replicas: desired 2, live 5; owned by kubectl (Update, subresource scale, 2026-03-02T10:05:12Z)',
    );
    expect(formatFieldDrift({ path: '.a', desired: 'x', live: null, owners: [] }, { color: false })).toBe(
      '.a: desired "x", live <absent>; no live owner',
    );
    expect(formatOwner({ manager: 'm', operation: 'Apply' })).toBe('m (Apply)');
  });
});

describe('long differing values', () => {
  const image = (tag: string) =>
    `registry.eu-west-1.example.com/platform/team-payments/services/checkout-service-api:${tag}`;

  it('keeps the part where the two differ (an image tag), marking what was cut', () => {
    const [desired, live] = formatDriftValues(image('v1.2.4'), image('v1.2.3'));
    expect(desired).toMatch(/^….*checkout-service-api:v1\.2\.4"$/);
    expect(live).toMatch(/^….*checkout-service-api:v1\.2\.3"$/);
    expect(desired.length).toBeLessThanOrEqual(80);
    // The cut starts at the same place in both, so they line up.
    expect(desired.slice(0, -3)).toBe(live.slice(0, -3));
    const line = formatFieldDrift(
      {
        path: '.spec.template.spec.containers[name=api].image',
        desired: image('v1.2.4'),
        live: image('v1.2.3'),
        owners: [],
      },
      { color: false },
    );
    expect(line).toContain('v1.2.4"');
    expect(line).toContain('v1.2.3"');
  });

  it('cuts both ends of a long value whose difference is in the middle', () => {
    const base = 'x'.repeat(100);
    const [a, b] = formatDriftValues(`${base}A${base}`, `${base}B${base}`);
    expect(a).toMatch(/^…x+Ax+…$/);
    expect(b).toMatch(/^…x+Bx+…$/);
    expect(a).toHaveLength(80);
  });

  it('leaves short values whole, cuts the end when the difference is near the start, and says <absent>', () => {
    expect(formatDriftValues('a', 'b')).toEqual(['"a"', '"b"']);
    const [a, b] = formatDriftValues(`A${'y'.repeat(200)}`, `B${'y'.repeat(200)}`);
    expect(a).toMatch(/^"Ay+…$/);
    expect(b).toMatch(/^"By+…$/);
    expect(a).toHaveLength(80);
    expect(formatDriftValues(image('v1'), null)).toEqual([`"${image('v1')}"`.slice(0, 79) + '…', '<absent>']);
    expect(formatDriftValues({ k: 'v' }, { k: 'w' })).toEqual(['{"k":"v"}', '{"k":"w"}']);
  });
});
