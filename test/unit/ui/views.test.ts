import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../src/audit/index.ts';
import { commitGroups, revertOf } from '../../../src/ui/server/views.ts';
import { groupObjects, relative, appMatches, diffLineClass } from '../../../src/ui/web/format.ts';
import type { AppSummary, ObjectView } from '../../../src/ui/shared/api.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

let seq = 0;
function record(app: string, sha: string | null, result: string, message = 'change'): AuditRecord {
  seq++;
  return {
    seq,
    time: `2026-01-01T00:00:${String(seq).padStart(2, '0')}.000Z`,
    app,
    commit: sha ? { sha, author: 'Ada <ada@example.com>', message, time: '2026-01-01T00:00:00Z' } : null,
    trigger: 'poll',
    mode: 'apply',
    result: result as AuditRecord['result'],
    objects: [],
    prev: '0'.repeat(64),
    hash: '1'.repeat(64),
  };
}

describe('the audit trail per commit', () => {
  it('groups the records of one app and commit, newest group first, and links a revert both ways', () => {
    const records = [
      record('shop', A, 'intent', 'scale web to 3'),
      record('shop', A, 'applied', 'scale web to 3'),
      record('billing', A, 'applied', 'scale web to 3'),
      record('shop', B, 'applied', `Revert "scale web to 3"\n\nThis reverts commit ${A}.\n`),
      record('shop', null, 'error'),
      record('shop', A, 'healthy', 'scale web to 3'),
    ];
    const groups = commitGroups(records);
    expect(groups.map((g) => g.id)).toEqual([`shop@${A}`, 'shop@-', `shop@${B}`, `billing@${A}`]);
    const a = groups.find((g) => g.id === `shop@${A}`)!;
    expect(a.records.map((r) => r.result)).toEqual(['intent', 'applied', 'healthy']);
    expect(a.revertedBy).toEqual([`shop@${B}`]);
    expect(groups.find((g) => g.id === `shop@${B}`)!.revertOf).toBe(A);
    // Another app's record of the same commit is not reverted by shop's revert.
    expect(groups.find((g) => g.id === `billing@${A}`)!.revertedBy).toEqual([]);
    expect(commitGroups(records, 'billing').map((g) => g.id)).toEqual([`billing@${A}`]);
  });

  it("reads the reverted commit from revertOf, else from git's own line in the message", () => {
    expect(revertOf({ ...record('shop', C, 'applied'), revertOf: A })).toBe(A);
    expect(revertOf(record('shop', C, 'applied', `Revert "x"\n\nThis reverts commit ${B}.`))).toBe(B);
    expect(revertOf(record('shop', C, 'applied', 'reverts nothing'))).toBeNull();
  });
});

describe("the page's helpers", () => {
  const obj = (kind: string, name: string, wave: number | null): ObjectView => ({
    apiVersion: 'v1',
    kind,
    namespace: 'shop',
    name,
    status: 'in-sync',
    fields: [],
    health: null,
    wave,
  });

  it('groups objects by wave (objects not in Git last), then kind, then name', () => {
    const groups = groupObjects([
      obj('Service', 'web', 1),
      obj('ConfigMap', 'b', 0),
      obj('ConfigMap', 'a', 0),
      obj('Deployment', 'old', null),
      obj('Deployment', 'web', 1),
    ]);
    expect(groups.map((w) => [w.wave, w.kinds.map((k) => [k.kind, k.objects.map((o) => o.name)])])).toEqual([
      [0, [['ConfigMap', ['a', 'b']]]],
      [
        1,
        [
          ['Deployment', ['web']],
          ['Service', ['web']],
        ],
      ],
      [null, [['Deployment', ['old']]]],
    ]);
  });

  it('says times relative to now, finds apps by name, repository, commit or author, and classes diff lines', () => {
    const now = Date.parse('2026-01-01T00:10:00Z');
    expect(relative('2026-01-01T00:09:57Z', now)).toBe('3s ago');
    expect(relative('2026-01-01T00:10:25Z', now)).toBe('in 25s');
    expect(relative('2026-01-01T00:05:00Z', now)).toBe('5m ago');
    expect(relative(null, now)).toBe('');
    const app = {
      name: 'shop',
      source: 'https://git.example.com/org/deploy.git',
      path: 'apps/shop',
      ref: 'main',
      seen: { sha: A, author: 'Ada Lovelace <ada@example.com>', message: 'Scale web', time: null },
      applied: null,
    } as AppSummary;
    for (const q of ['SHOP', 'org/deploy', 'aaaaaaa', 'lovelace', 'scale', ''])
      expect(appMatches(app, q)).toBe(true);
    expect(appMatches(app, 'billing')).toBe(false);
    expect(['+a', '-b', '@@ x', '--- live', ' c'].map(diffLineClass)).toEqual([
      'dl-add',
      'dl-del',
      'dl-hunk',
      'dl-file',
      '',
    ]);
  });
});
