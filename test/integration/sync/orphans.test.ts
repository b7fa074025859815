/**
 * findOrphans, in process, against the real kube-apiserver: what an app applied before and
 * no longer has in Git, skipping objects another app (or a person) took over and objects
 * already gone, in prune order.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readInventory } from '../../../src/cluster/inventory.ts';
import { applyCommit } from '../../../src/sync/execute.ts';
import { findOrphans } from '../../../src/sync/orphans.ts';
import { kubectl } from '../../support/cluster.ts';
import { namespace as namespaceObject } from '../../support/objects.ts';
import {
  applyInput,
  applyPlan,
  cms,
  newCommit,
  planOf,
  sourceOf,
  statuses,
  syncTestContext,
  uniqueApp,
  writes,
} from './helpers.ts';

const t = syncTestContext('orphans');

describe('findOrphans', () => {
  it('skips objects another app took over, a person unlabelled or deleted, in prune order', async () => {
    const { conn, namespace, app } = await t.fresh('orphans');
    const other = uniqueApp('other');
    const extraNs = `orphans-extra-${randomBytes(4).toString('hex')}`;
    try {
      const all = {
        'cms.yaml': cms('keep', 'taken', 'deleted', 'unlabelled', 'orphan'),
        'ns.yaml': [namespaceObject({ name: extraNs })],
      };
      const first = await applyPlan(conn, all, { namespace, app, commit: newCommit() });
      expect(Object.values(statuses(first.results))).toEqual(Array(6).fill('created'));

      await kubectl([
        '-n',
        namespace,
        'label',
        'configmap',
        'taken',
        `tether.dev/app=${other}`,
        '--overwrite',
      ]);
      await kubectl(['-n', namespace, 'label', 'configmap', 'unlabelled', 'tether.dev/app-']);
      await kubectl(['-n', namespace, 'delete', 'configmap', 'deleted']);

      const second = { namespace, app, commit: newCommit() };
      const plan = planOf(conn, { 'cms.yaml': cms('keep') }, second);
      const inventory = await readInventory(conn, app, namespace);
      expect(inventory?.entries).toHaveLength(6);

      const writesBefore = writes(conn);
      const owner = { name: app, source: sourceOf(app) };
      const orphans = await findOrphans(conn, inventory, plan, owner);
      // Namespaced objects first, the Namespace last (the reverse of the apply order).
      expect(orphans.map((o) => o.id)).toEqual([
        { group: '', version: 'v1', kind: 'ConfigMap', namespace, name: 'orphan' },
        { group: '', version: 'v1', kind: 'Namespace', namespace: '', name: extraNs },
      ]);
      expect(orphans[0]!.live.metadata.name).toBe('orphan');
      expect(orphans[0]!.live.metadata.uid).toEqual(expect.any(String));
      expect((orphans[0]!.live.data as Record<string, string>).key).toBe('orphan');
      expect(orphans[1]!.live.kind).toBe('Namespace');
      expect(writes(conn)).toBe(writesBefore);

      // No inventory (a first apply): no orphans. Everything still in the plan: none either.
      expect(await findOrphans(conn, undefined, plan, owner)).toEqual([]);
      const whole = planOf(conn, all, second);
      expect(await findOrphans(conn, inventory, whole, owner)).toEqual([]);

      // Prune deletes exactly the orphans: the taken-over and unlabelled objects stay.
      const pruned = await applyCommit(applyInput(conn, plan, second, { prune: true }));
      expect(statuses(pruned.results)).toEqual({
        'ConfigMap/keep': 'unchanged',
        'ConfigMap/orphan': 'pruned',
        [`Namespace/${extraNs}`]: 'pruned',
      });
      const left = await kubectl([
        '-n',
        namespace,
        'get',
        'configmaps',
        '-o',
        'jsonpath={.items[*].metadata.name}',
      ]);
      expect(
        left
          .split(' ')
          // kube-root-ca.crt: the control plane's root-CA publisher puts it in every namespace.
          .filter((n) => !n.startsWith('tether-inventory-') && n !== 'kube-root-ca.crt')
          .sort(),
      ).toEqual(['keep', 'taken', 'unlabelled']);
    } finally {
      await kubectl(['delete', 'namespace', extraNs, '--wait=false', '--ignore-not-found']);
    }
  });
});
