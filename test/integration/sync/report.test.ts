/**
 * reportDrift, in process, against the real kube-apiserver: every report status from what
 * the server really holds (an imperative edit, another server-side applier, an object never
 * applied, one removed from Git, one the server refuses), and no write.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ObjectRejectedError } from '../../../src/sync/errors.ts';
import { CREATE_ONLY_REASON, IGNORED_REASON } from '../../../src/sync/outcome.ts';
import { kubectl, kubectlJson } from '../../support/cluster.ts';
import { configMap, deployment, namespace as namespaceObject, toYaml } from '../../support/objects.ts';
import {
  applyPlan,
  newCommit,
  planOf,
  report,
  requests,
  statuses,
  syncTestContext,
  writes,
} from './helpers.ts';

const t = syncTestContext('report');

describe('reportDrift', () => {
  it('reports in-sync, drifted, missing, conflict, orphaned and error, and writes nothing', async () => {
    const { conn, namespace, app } = await t.fresh('drift');
    const steady = configMap({ name: 'steady', data: { a: '1' } });
    const contested = configMap({ name: 'contested', data: { a: '1', b: '2' } });
    const web = deployment({ name: 'web', replicas: 1 });
    const applied = await applyPlan(
      conn,
      {
        'steady.yaml': [steady],
        'contested.yaml': [contested],
        'web.yaml': [web],
        'leaving.yaml': [configMap({ name: 'leaving', data: { a: '1' } })],
      },
      { namespace, app, commit: newCommit() },
    );
    expect(applied.inventoryWritten).toBe(true);

    await kubectl(['-n', namespace, 'scale', 'deployment', 'web', '--replicas=4']);
    await kubectl(
      ['apply', '--server-side', '--field-manager', 'other', '--force-conflicts', '-f', '-'],
      toYaml(configMap({ name: 'contested', namespace, data: { a: 'theirs' } })),
    );

    const brokenText = toYaml(
      configMap({ name: 'fresh', data: { a: '1' } }),
      deployment({ name: 'broken', replicas: -1 }),
    );
    const brokenLine = brokenText.split('\n').indexOf('---') + 2;
    const plan = planOf(
      conn,
      { 'steady.yaml': [steady], 'contested.yaml': [contested], 'web.yaml': [web], 'new.yaml': brokenText },
      { namespace, app, commit: newCommit() },
    );
    const writesBefore = writes(conn);
    const results = await report(conn, plan, { app, namespace });

    expect(statuses(results)).toEqual({
      'ConfigMap/steady': 'in-sync',
      'ConfigMap/contested': 'conflict',
      'Deployment/web': 'drifted',
      'ConfigMap/fresh': 'missing',
      'Deployment/broken': 'error',
      'ConfigMap/leaving': 'orphaned',
    });
    const of = (name: string) => results.find((r) => r.id.name === name)!;

    expect(of('steady').fields).toEqual([]);

    const drifted = of('web');
    expect(drifted.conflicts).toEqual([]);
    expect(drifted.fields).toHaveLength(1);
    expect(drifted.fields[0]).toMatchObject({ path: '.spec.replicas', desired: 1, live: 4 });
    expect(drifted.fields[0]!.owners).toHaveLength(1);
    expect(drifted.fields[0]!.owners[0]!.manager).toMatch(/^kubectl/);
    expect(drifted.fields[0]!.owners[0]!.operation).toBe('Update');
    expect(drifted.source).toEqual({ file: 'web.yaml', line: 1, column: 1 });

    const conflict = of('contested');
    expect(conflict.conflicts).toEqual([
      {
        path: '.data.a',
        desired: '1',
        live: 'theirs',
        owners: [expect.objectContaining({ manager: 'other', operation: 'Apply' })],
      },
    ]);
    expect(conflict.fields.map((f) => f.path)).toEqual(['.data.a']);

    expect(of('fresh').fields).toEqual([]);

    const error = of('broken');
    expect(error.error).toBeInstanceOf(ObjectRejectedError);
    expect(error.error?.source).toEqual({ file: 'new.yaml', line: brokenLine, column: 1 });
    expect(error.message).toMatch(
      new RegExp(`^new\\.yaml:${brokenLine}:1: apps/v1 Deployment .*spec\\.replicas`),
    );

    const orphan = of('leaving');
    expect(orphan.id).toEqual({ group: '', version: 'v1', kind: 'ConfigMap', namespace, name: 'leaving' });
    expect(orphan.source).toBeUndefined();

    // Report mode writes nothing: the drift and the conflict are still there, nothing was created.
    expect(writes(conn)).toBe(writesBefore);
    expect(
      await kubectl(['-n', namespace, 'get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}']),
    ).toBe('4');
    expect(
      await kubectl(['-n', namespace, 'get', 'configmap', 'contested', '-o', 'jsonpath={.data.a}']),
    ).toBe('theirs');
    expect(
      await kubectl(['-n', namespace, 'get', 'configmap', 'fresh', '--ignore-not-found', '-o', 'name']),
    ).toBe('');
    expect(await kubectl(['-n', namespace, 'get', 'configmap', 'leaving', '-o', 'name'])).toContain(
      'leaving',
    );
  });

  it('reports ignored and create-only objects in sync, objects of a namespace the commit creates missing, and ignore rules end drift', async () => {
    const { conn, namespace, app } = await t.fresh('quiet');
    const newNs = `report-new-${randomBytes(4).toString('hex')}`;
    await kubectl(['-n', namespace, 'create', 'configmap', 'seeded', '--from-literal=a=by-hand']);
    await kubectl(['-n', namespace, 'create', 'configmap', 'hands-off', '--from-literal=a=by-hand']);
    const web = deployment({ name: 'web', replicas: 2 });
    await applyPlan(conn, { 'web.yaml': [web] }, { namespace, app, commit: newCommit() });
    await kubectl(['-n', namespace, 'scale', 'deployment', 'web', '--replicas=5']);

    const plan = planOf(
      conn,
      {
        'web.yaml': [web],
        'cms.yaml': [
          configMap({
            name: 'seeded',
            annotations: { 'tether.dev/apply': 'create-only' },
            data: { a: 'git' },
          }),
          configMap({ name: 'hands-off', annotations: { 'tether.dev/apply': 'ignore' }, data: { a: 'git' } }),
        ],
        'ns.yaml': [
          namespaceObject({ name: newNs }),
          configMap({ name: 'inside', namespace: newNs, data: { a: '1' } }),
        ],
      },
      { namespace, app, commit: newCommit() },
    );
    const dryRunsBefore = requests(conn, 'patch', true);
    const results = await report(conn, plan, { app, namespace }, [
      { paths: ['.spec.replicas'], kinds: ['Deployment'] },
    ]);
    expect(statuses(results)).toEqual({
      'Deployment/web': 'in-sync',
      'ConfigMap/seeded': 'in-sync',
      'ConfigMap/hands-off': 'in-sync',
      [`Namespace/${newNs}`]: 'missing',
      'ConfigMap/inside': 'missing',
    });
    expect(results.find((r) => r.id.name === 'seeded')!.message).toBe(CREATE_ONLY_REASON);
    expect(results.find((r) => r.id.name === 'hands-off')!.message).toBe(IGNORED_REASON);
    expect(results.find((r) => r.id.name === 'web')!.fields).toEqual([]);
    // Dry-runs: the Deployment and the Namespace only (not the ignored, the create-only, nor the pending object).
    expect(requests(conn, 'patch', true)).toBe(dryRunsBefore + 2);

    // Without the ignore rule, the same scale is drift.
    const without = await report(conn, plan, { app, namespace });
    expect(without.find((r) => r.id.name === 'web')!.status).toBe('drifted');
    const live = await kubectlJson<{ data: Record<string, string> }>([
      '-n',
      namespace,
      'get',
      'configmap',
      'seeded',
    ]);
    expect(live.data).toEqual({ a: 'by-hand' });
  });
});
