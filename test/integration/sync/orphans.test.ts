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
import { configMap, namespace as namespaceObject } from '../../support/objects.ts';
import {
  newCommit,
  planOf,
  settings,
  sourceOf,
  statuses,
  syncTestContext,
  uniqueApp,
  writes,
} from './helpers.ts';

const t = syncTestContext('orphans');

const cms = (...names: string[]) => names.map((name) => configMap({ name, data: { key: name } }));

describe('findOrphans', () => {
  it('skips objects another app took over, a person unlabelled or deleted, in prune order', async () => {
    const conn = t.conn();
    const namespace = await t.namespace();
    const app = uniqueApp('orphans');
    const other = uniqueApp('other');
    const extraNs = `orphans-extra-${randomBytes(4).toString('hex')}`;
    try {
      const c1 = newCommit();
      const first = await applyCommit({
        ...conn,
        plan: planOf(
          conn,
          {
            'cms.yaml': cms('keep', 'taken', 'deleted', 'unlabelled', 'orphan'),
            'ns.yaml': [namespaceObject({ name: extraNs })],
          },
          { namespace, app, commit: c1 },
        ),
        commit: c1,
        app,
        source: sourceOf(app),
        namespace,
        settings: settings(),
      });
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

      const c2 = newCommit();
      const plan = planOf(conn, { 'cms.yaml': cms('keep') }, { namespace, app, commit: c2 });
      const inventory = await readInventory(conn, app, namespace);
      expect(inventory?.entries).toHaveLength(6);

      const writesBefore = writes(conn);
      const orphans = await findOrphans(conn, inventory, plan, { name: app, source: sourceOf(app) });
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
      expect(await findOrphans(conn, undefined, plan, { name: app, source: sourceOf(app) })).toEqual([]);
      const whole = planOf(
        conn,
        {
          'cms.yaml': cms('keep', 'taken', 'deleted', 'unlabelled', 'orphan'),
          'ns.yaml': [namespaceObject({ name: extraNs })],
        },
        { namespace, app, commit: c2 },
      );
      expect(await findOrphans(conn, inventory, whole, { name: app, source: sourceOf(app) })).toEqual([]);

      // Prune deletes exactly the orphans: the taken-over and unlabelled objects stay.
      const pruned = await applyCommit({
        ...conn,
        plan,
        commit: c2,
        app,
        source: sourceOf(app),
        namespace,
        settings: settings({ prune: true }),
      });
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
          .filter((n) => !n.startsWith('tether-inventory-'))
          .sort(),
      ).toEqual(['keep', 'taken', 'unlabelled']);
    } finally {
      await kubectl(['delete', 'namespace', extraNs, '--wait=false', '--ignore-not-found']);
    }
  });
});
