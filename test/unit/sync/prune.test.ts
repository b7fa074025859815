import { describe, expect, it } from 'vitest';
import { TetherError } from '../../../src/errors.ts';
import type { ObjectId } from '../../../src/manifests/index.ts';
import { checkPruneGuard, pruneCandidates, pruneOrder } from '../../../src/sync/prune.ts';

const id = (group: string, kind: string, namespace: string, name: string, version = 'v1'): ObjectId => ({
  group,
  version,
  kind,
  namespace,
  name,
});

const web = id('apps', 'Deployment', 'shop', 'web');
const cmA = id('', 'ConfigMap', 'shop', 'a');
const cmB = id('', 'ConfigMap', 'shop', 'b');
const cmOther = id('', 'ConfigMap', 'other', 'a');
const role = id('rbac.authorization.k8s.io', 'ClusterRole', '', 'viewer');
const crd = id('apiextensions.k8s.io', 'CustomResourceDefinition', '', 'widgets.example.com');
const ns = id('', 'Namespace', '', 'shop');
/**
 * The guard's error, whatever module declares PruneGuardError (matched by name, so the test
 * does not depend on where the class lives).
 */
const guardError = { name: 'PruneGuardError' };
const names = (ids: ObjectId[]) => ids.map((x) => `${x.kind}/${x.namespace}/${x.name}`);

describe('pruneCandidates', () => {
  it('returns the previous objects the current plan no longer has, in the previous order', () => {
    expect(pruneCandidates([cmB, web, cmA, ns], [web])).toEqual([cmB, cmA, ns]);
    expect(pruneCandidates([cmB, web, cmA], [])).toEqual([cmB, web, cmA]);
    expect(pruneCandidates([], [web])).toEqual([]);
    expect(pruneCandidates([web, cmA], [cmA, web])).toEqual([]);
  });

  it('ignores versions: an object whose apiVersion moved on is the same object', () => {
    const moved = { ...web, version: 'v1beta2' };
    expect(pruneCandidates([moved], [web])).toEqual([]);
    expect(pruneCandidates([web], [moved])).toEqual([]);
  });

  it('tells objects apart by group, kind, namespace and name', () => {
    const previous = [
      cmA,
      cmOther,
      id('', 'Secret', 'shop', 'a'),
      id('example.com', 'ConfigMap', 'shop', 'a'),
    ];
    expect(pruneCandidates(previous, [cmA])).toEqual(previous.slice(1));
  });
});

describe('pruneOrder', () => {
  it('deletes namespaced objects first, then cluster-scoped ones, then CRDs, then Namespaces', () => {
    expect(names(pruneOrder([ns, crd, role, web, cmA]))).toEqual([
      'ConfigMap/shop/a',
      'Deployment/shop/web',
      'ClusterRole//viewer',
      'CustomResourceDefinition//widgets.example.com',
      'Namespace//shop',
    ]);
  });

  it('orders each rank by group, kind, namespace and name, whatever the input order', () => {
    const ids = [web, cmB, role, cmA, id('', 'Secret', 'shop', 'a'), cmOther];
    const expected = [
      'ConfigMap/other/a',
      'ConfigMap/shop/a',
      'ConfigMap/shop/b',
      'Secret/shop/a',
      'Deployment/shop/web',
      'ClusterRole//viewer',
    ];
    expect(names(pruneOrder(ids))).toEqual(expected);
    expect(names(pruneOrder([...ids].reverse()))).toEqual(expected);
  });

  it('ranks only the real Namespace and CRD kinds specially', () => {
    const fakeNs = id('example.com', 'Namespace', 'shop', 'n');
    const fakeCrd = id('example.com', 'CustomResourceDefinition', '', 'c');
    expect(pruneOrder([ns, crd, fakeCrd, fakeNs])).toEqual([fakeNs, fakeCrd, crd, ns]);
  });

  it('returns a new array and leaves its input alone', () => {
    const input = [ns, web];
    const out = pruneOrder(input);
    expect(out).toEqual([web, ns]);
    expect(input).toEqual([ns, web]);
    expect(out).not.toBe(input);
  });
});

describe('checkPruneGuard', () => {
  it('allows deleting up to exactly half of the inventory', () => {
    expect(() => checkPruneGuard(2, 4, false, 'shop')).not.toThrow();
    expect(() => checkPruneGuard(1, 2, false, 'shop')).not.toThrow();
    expect(() => checkPruneGuard(1, 3, false, 'shop')).not.toThrow();
  });

  it('refuses more than half, naming the app and the counts', () => {
    let error: unknown;
    try {
      checkPruneGuard(3, 5, false, 'shop');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TetherError);
    expect(error).toMatchObject(guardError);
    const guard = error as TetherError;
    expect(guard.message).toMatch(/\bapp shop\b/);
    expect(guard.message).toMatch(/\b3 of its 5 objects\b/);
    expect(guard.hint).toMatch(/--allow-mass-prune/);
    expect(() => checkPruneGuard(3, 4, false, 'shop')).toThrow(expect.objectContaining(guardError));
    expect(() => checkPruneGuard(1, 1, false, 'shop')).toThrow(expect.objectContaining(guardError));
  });

  it('lets a mass prune through when allowed', () => {
    expect(() => checkPruneGuard(5, 5, true, 'shop')).not.toThrow();
    expect(() => checkPruneGuard(3, 5, true, 'shop')).not.toThrow();
  });

  it('never refuses when there is nothing to prune', () => {
    expect(() => checkPruneGuard(0, 0, false, 'shop')).not.toThrow();
    expect(() => checkPruneGuard(0, 1, false, 'shop')).not.toThrow();
  });
});
