import { describe, expect, it } from 'vitest';
import type { AuditAction } from '../../../src/audit/index.ts';
import type { ObjectId } from '../../../src/manifests/index.ts';
import {
  apiVersionOf,
  auditActionOf,
  countDiffering,
  differs,
  exitCodeOf,
  failed,
  reconcileResult,
  summarize,
  wrote,
  type ObjectResult,
  type ObjectStatus,
} from '../../../src/sync/outcome.ts';

const cm = (name: string): ObjectId => ({
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  namespace: 'shop',
  name,
});

let n = 0;
/** One result per status, each naming a distinct object. */
const results = (...statuses: ObjectStatus[]): ObjectResult[] =>
  statuses.map((status) => ({ id: cm(`o${n++}`), status, fields: [], conflicts: [] }));

/** [status, wrote, differs, failed, audit action] for every status word of every command. */
const TABLE: [ObjectStatus, boolean, boolean, boolean, AuditAction | undefined][] = [
  // tether sync (apply mode)
  ['created', true, false, false, 'created'],
  ['configured', true, false, false, 'configured'],
  ['unchanged', false, false, false, undefined],
  ['pruned', true, false, false, 'pruned'],
  ['conflict', false, true, false, 'conflict'],
  ['skipped', false, false, false, undefined],
  ['failed', false, false, true, 'error'],
  // tether drift (report mode)
  ['in-sync', false, false, false, undefined],
  ['drifted', false, true, false, 'drifted'],
  ['missing', false, true, false, 'missing'],
  ['orphaned', false, true, false, 'orphaned'],
  ['error', false, false, true, 'error'],
  // tether diff (preview)
  ['create', false, true, false, undefined],
  ['update', false, true, false, undefined],
  ['delete', false, true, false, undefined],
  ['orphan', false, true, false, undefined],
];

describe('status traits', () => {
  it.each(TABLE)('%s: wrote %s, differs %s, failed %s, audit %s', (status, w, d, f, audit) => {
    expect(wrote(status)).toBe(w);
    expect(differs(status)).toBe(d);
    expect(failed(status)).toBe(f);
    expect(auditActionOf(status)).toBe(audit);
  });

  it('no status both writes and differs, or fails and anything else', () => {
    for (const [status] of TABLE) {
      const traits = [wrote(status), differs(status), failed(status)].filter(Boolean);
      expect(traits.length, status).toBeLessThanOrEqual(1);
    }
  });
});

describe('apiVersionOf', () => {
  it('is group/version, or the bare version for the core group', () => {
    expect(apiVersionOf(cm('a'))).toBe('v1');
    expect(apiVersionOf({ ...cm('a'), group: 'apps', kind: 'Deployment' })).toBe('apps/v1');
  });
});

describe('exitCodeOf', () => {
  it('is 0 when nothing differs or failed', () => {
    expect(exitCodeOf([])).toBe(0);
    expect(exitCodeOf(results('in-sync', 'unchanged', 'skipped'))).toBe(0);
    // Writes are not differences: after a sync, the cluster matches Git.
    expect(exitCodeOf(results('created', 'configured', 'pruned'))).toBe(0);
  });

  it.each<ObjectStatus>([
    'drifted',
    'orphaned',
    'missing',
    'conflict',
    'create',
    'update',
    'delete',
    'orphan',
  ])('is 1 for a %s object among in-sync ones', (status) => {
    expect(exitCodeOf(results('in-sync', status, 'in-sync'))).toBe(1);
  });

  it.each<ObjectStatus>(['failed', 'error'])('is 2 for a %s object', (status) => {
    expect(exitCodeOf(results(status))).toBe(2);
    expect(exitCodeOf(results('in-sync', status))).toBe(2);
  });

  it('is 2 when an object failed and others differ: the error wins, wherever it is', () => {
    expect(exitCodeOf(results('drifted', 'missing', 'error'))).toBe(2);
    expect(exitCodeOf(results('error', 'drifted'))).toBe(2);
    expect(exitCodeOf(results('update', 'failed', 'create'))).toBe(2);
  });
});

describe('countDiffering', () => {
  it('counts drift, missing, orphaned, conflicts and pending changes, not writes or failures', () => {
    expect(countDiffering([])).toBe(0);
    expect(countDiffering(results('in-sync', 'created', 'configured', 'pruned', 'error', 'failed'))).toBe(0);
    expect(countDiffering(results('drifted', 'in-sync', 'missing', 'orphaned', 'conflict', 'error'))).toBe(4);
    expect(countDiffering(results('create', 'update', 'unchanged', 'delete', 'orphan'))).toBe(4);
    expect(countDiffering(results('drifted', 'drifted', 'drifted'))).toBe(3);
  });
});

describe('summarize', () => {
  it('counts each status in order of first appearance', () => {
    expect(summarize(results('in-sync', 'drifted', 'in-sync', 'missing', 'drifted', 'in-sync'))).toBe(
      '3 in-sync, 2 drifted, 1 missing',
    );
    expect(summarize(results('missing', 'in-sync', 'in-sync'))).toBe('1 missing, 2 in-sync');
    expect(summarize(results('unchanged'))).toBe('1 unchanged');
  });

  it('says "no objects" for an empty result', () => {
    expect(summarize([])).toBe('no objects');
  });
});

describe('reconcileResult: report mode', () => {
  it('is in-sync when nothing differs', () => {
    expect(reconcileResult('report', [], true)).toBe('in-sync');
    expect(reconcileResult('report', results('in-sync', 'in-sync'), true)).toBe('in-sync');
    expect(reconcileResult('report', results('in-sync'), false)).toBe('in-sync');
  });

  it.each<ObjectStatus>(['drifted', 'missing', 'orphaned'])('is drift-found for a %s object', (status) => {
    expect(reconcileResult('report', results('in-sync', status), true)).toBe('drift-found');
    expect(reconcileResult('report', results(status), false)).toBe('drift-found');
  });

  it('is conflict when any object conflicts, even with drift', () => {
    expect(reconcileResult('report', results('conflict'), false)).toBe('conflict');
    expect(reconcileResult('report', results('drifted', 'conflict', 'missing'), false)).toBe('conflict');
  });

  it('is error first, whatever else was found', () => {
    expect(reconcileResult('report', results('error'), false)).toBe('error');
    expect(reconcileResult('report', results('conflict', 'drifted', 'error'), true)).toBe('error');
  });
});

describe('reconcileResult: apply mode', () => {
  it('is applied for writes of a new commit, drift-healed for writes of an applied one', () => {
    for (const status of ['created', 'configured'] as const) {
      expect(reconcileResult('apply', results('unchanged', status), true)).toBe('applied');
      expect(reconcileResult('apply', results('unchanged', status), false)).toBe('drift-healed');
    }
  });

  it('calls a reconcile that created or configured applied or healed even when it also pruned', () => {
    expect(reconcileResult('apply', results('pruned', 'configured'), true)).toBe('applied');
    expect(reconcileResult('apply', results('pruned', 'created'), false)).toBe('drift-healed');
  });

  it('is pruned when the only writes were deletions, new commit or not', () => {
    expect(reconcileResult('apply', results('unchanged', 'pruned'), true)).toBe('pruned');
    expect(reconcileResult('apply', results('pruned'), false)).toBe('pruned');
    expect(reconcileResult('apply', results('pruned', 'conflict'), false)).toBe('pruned');
  });

  it('is conflict when nothing was written and an object conflicts', () => {
    expect(reconcileResult('apply', results('unchanged', 'conflict'), true)).toBe('conflict');
    expect(reconcileResult('apply', results('conflict', 'skipped'), false)).toBe('conflict');
  });

  it('is applied for a new commit and in-sync for an applied one when nothing was written', () => {
    expect(reconcileResult('apply', results('unchanged', 'skipped'), true)).toBe('applied');
    expect(reconcileResult('apply', results('unchanged', 'skipped'), false)).toBe('in-sync');
    expect(reconcileResult('apply', [], true)).toBe('applied');
    expect(reconcileResult('apply', [], false)).toBe('in-sync');
  });

  it('is partial when an object failed after others were written, error when nothing was', () => {
    expect(reconcileResult('apply', results('created', 'failed'), true)).toBe('partial');
    expect(reconcileResult('apply', results('failed', 'pruned', 'conflict'), false)).toBe('partial');
    expect(reconcileResult('apply', results('failed', 'unchanged', 'conflict'), true)).toBe('error');
    expect(reconcileResult('report', results('error', 'drifted'), false)).toBe('error');
  });
});
