import { describe, expect, it } from 'vitest';
import type { FieldDrift } from '../../../src/diff/index.ts';
import type { ObjectId } from '../../../src/manifests/index.ts';
import type { CommitInfo } from '../../../src/source/index.ts';
import type { ObjectResult, ObjectStatus } from '../../../src/sync/outcome.ts';
import { auditCommit, auditInput, revertOf } from '../../../src/sync/to-audit.ts';

const SHA = 'a'.repeat(40);
const REVERTED = '0123456789abcdef0123456789abcdef01234567';

const commit = (message = 'Scale web to 3\n'): CommitInfo => ({
  sha: SHA,
  author: { name: 'Ada', email: 'ada@example.com', time: '2024-05-01T10:00:00Z' },
  committer: { name: 'CI', email: 'ci@example.com', time: '2024-05-01T10:05:00Z' },
  message,
  parents: [],
});

const web: ObjectId = { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'shop', name: 'web' };
const role: ObjectId = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'ClusterRole',
  namespace: '',
  name: 'viewer',
};

const replicas: FieldDrift = {
  path: '.spec.replicas',
  desired: 3,
  live: 5,
  owners: [{ manager: 'kubectl-edit', operation: 'Update' }],
};
const image: FieldDrift = {
  path: '.spec.template.spec.containers[name=web].image',
  desired: 'web:2',
  live: 'web:1',
  owners: [{ manager: 'helm', operation: 'Apply', time: '2024-04-01T00:00:00Z' }],
};

const result = (status: ObjectStatus, extra: Partial<ObjectResult> = {}): ObjectResult => ({
  id: web,
  status,
  fields: [],
  conflicts: [],
  ...extra,
});

const input = (
  results: ObjectResult[],
  opts: { mode?: 'apply' | 'report'; commitIsNew?: boolean; message?: string } = {},
) =>
  auditInput({
    app: 'shop',
    commit: commit(opts.message),
    trigger: 'poll',
    mode: opts.mode ?? 'apply',
    results,
    commitIsNew: opts.commitIsNew ?? true,
  });

describe('auditInput', () => {
  it('carries the app, trigger, mode, commit and the result word of the reconcile', () => {
    const record = input([result('created')], { commitIsNew: true });
    expect(record).toEqual({
      app: 'shop',
      commit: {
        sha: SHA,
        author: 'Ada <ada@example.com>',
        message: 'Scale web to 3',
        time: '2024-05-01T10:00:00Z',
      },
      trigger: 'poll',
      mode: 'apply',
      result: 'applied',
      objects: [
        { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web', action: 'created' },
      ],
    });
    expect(input([result('drifted')], { mode: 'report' }).result).toBe('drift-found');
    expect(input([result('configured')], { commitIsNew: false }).result).toBe('drift-healed');
  });

  it('records only the notable objects: not unchanged, skipped or in-sync ones', () => {
    const record = input([
      result('unchanged'),
      result('skipped', { message: 'tether.dev/apply: ignore' }),
      result('in-sync'),
      result('pruned', { id: role }),
    ]);
    expect(record.objects).toEqual([
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        namespace: '',
        name: 'viewer',
        action: 'pruned',
      },
    ]);
    expect(input([result('unchanged'), result('in-sync')]).objects).toEqual([]);
  });

  it.each<[ObjectStatus, string]>([
    ['created', 'created'],
    ['configured', 'configured'],
    ['pruned', 'pruned'],
    ['conflict', 'conflict'],
    ['failed', 'error'],
    ['drifted', 'drifted'],
    ['missing', 'missing'],
    ['orphaned', 'orphaned'],
    ['error', 'error'],
  ])('records a %s object as %s', (status, action) => {
    expect(input([result(status)]).objects.map((o) => o.action)).toEqual([action]);
  });

  it('records a configured object as healed when the commit had been applied before', () => {
    const objects = (commitIsNew: boolean) =>
      input([result('configured'), result('created')], { commitIsNew }).objects.map((o) => o.action);
    expect(objects(true)).toEqual(['configured', 'created']);
    expect(objects(false)).toEqual(['healed', 'created']);
  });

  it('keeps the changed fields, and a conflict the conflicting fields instead', () => {
    const [configured, conflict] = input([
      result('configured', { fields: [replicas], conflicts: [image] }),
      result('conflict', { fields: [replicas], conflicts: [image], message: 'helm owns the image' }),
    ]).objects;
    expect(configured!.fields).toEqual([replicas]);
    expect(conflict!.fields).toEqual([image]);
    expect(conflict!.error).toBe('helm owns the image');
  });

  it('leaves fields out when there are none', () => {
    const [drifted, conflict] = input([
      result('drifted', { fields: [] }),
      result('conflict', { fields: [replicas], conflicts: [] }),
    ]).objects;
    expect(drifted).not.toHaveProperty('fields');
    expect(conflict).not.toHaveProperty('fields');
  });

  it('carries the message of an error or a conflict only', () => {
    const objects = input([
      result('failed', { message: 'the server refused it' }),
      result('error', { message: 'dry-run failed' }),
      result('conflict', { message: 'owned by helm' }),
      result('drifted', { message: 'not an error' }),
      result('configured', { message: 'not an error either' }),
      result('error'),
    ]).objects;
    expect(objects.map((o) => o.error)).toEqual([
      'the server refused it',
      'dry-run failed',
      'owned by helm',
      undefined,
      undefined,
      undefined,
    ]);
    expect(objects[3]).not.toHaveProperty('error');
    expect(objects[5]).not.toHaveProperty('error');
  });

  it('sets revertOf from a "This reverts commit <sha>." line, and leaves it out otherwise', () => {
    const message = `Revert "Scale web to 3"\n\nThis reverts commit ${REVERTED}.\n`;
    expect(input([], { message }).revertOf).toBe(REVERTED);
    expect(input([]).revertOf).toBeUndefined();
    expect(input([])).not.toHaveProperty('revertOf');
  });
});

describe('auditCommit', () => {
  it('names the author as "Name <email>" with the author time, and trims the message', () => {
    expect(auditCommit(commit('\n  Fix it  \n\n'))).toEqual({
      sha: SHA,
      author: 'Ada <ada@example.com>',
      message: 'Fix it',
      time: '2024-05-01T10:00:00Z',
    });
  });
});

describe('revertOf', () => {
  it('finds the reverted sha as git revert writes it', () => {
    expect(revertOf(`Revert "x"\n\nThis reverts commit ${REVERTED}.`)).toBe(REVERTED);
    expect(revertOf(`This reverts commit ${REVERTED}.`)).toBe(REVERTED);
    expect(revertOf(`Revert\n\nThis reverts commit ${SHA}.\n\nBecause it broke checkout.`)).toBe(SHA);
    // A merge revert, as tether revert words it.
    expect(revertOf(`This reverts commit ${REVERTED}, reversing\nchanges made to ${SHA}.\n`)).toBe(REVERTED);
  });

  it('finds nothing without a full lowercase sha after the phrase', () => {
    expect(revertOf('Scale web to 3')).toBeUndefined();
    expect(revertOf('This reverts commit 0123456.')).toBeUndefined();
    expect(revertOf(`This reverts commit ${REVERTED.toUpperCase()}.`)).toBeUndefined();
    expect(revertOf(`This reverts ${REVERTED}.`)).toBeUndefined();
    expect(revertOf('')).toBeUndefined();
  });
});
