/**
 * applyCommit, in process, against the real kube-apiserver: create, no-op, healing an
 * imperative edit, conflicts with another server-side applier, a rejected commit that writes
 * nothing, prune and the prune guard.
 */
import { describe, expect, it } from 'vitest';
import { readInventory } from '../../../src/cluster/inventory.ts';
import {
  ApplyInterruptedError,
  CommitRejectedError,
  ObjectError,
  ObjectRejectedError,
  PruneGuardError,
} from '../../../src/sync/errors.ts';
import { applyCommit } from '../../../src/sync/execute.ts';
import { kubectl, kubectlJson } from '../../support/cluster.ts';
import { configMap, deployment, service, toYaml } from '../../support/objects.ts';
import {
  applyInput,
  cms,
  kubectlEdit,
  namesOf,
  newCommit,
  planOf,
  requests,
  statuses,
  syncTestContext,
  writes,
} from './helpers.ts';

const t = syncTestContext('execute');

interface ManagedField {
  manager: string;
  operation: string;
  fieldsV1?: { 'f:data'?: Record<string, unknown> };
}
interface LiveObject {
  metadata: { labels?: Record<string, string>; managedFields?: ManagedField[] };
  data?: Record<string, string>;
  spec?: { template: { spec: { containers: { image: string }[] } } };
}

/** The ConfigMaps of the namespace that are not an inventory. */
async function configMaps(ns: string): Promise<string[]> {
  return (await namesOf(ns, 'configmaps')).filter(
    (n) => !n.startsWith('tether-inventory-') && n !== 'kube-root-ca.crt',
  );
}

describe('applyCommit', () => {
  it('creates, then reports unchanged without a write, then heals a kubectl edit', async () => {
    const { conn, namespace, app } = await t.fresh('web');
    const commit = newCommit();
    const plan = planOf(
      conn,
      {
        'web.yaml': [
          configMap({ name: 'web-config', data: { LOG_LEVEL: 'info' } }),
          deployment({ name: 'web' }),
        ],
      },
      { namespace, app, commit },
    );
    const run = applyInput(conn, plan, { commit, app, namespace });

    const first = await applyCommit(run);
    expect(statuses(first.results)).toEqual({
      'ConfigMap/web-config': 'created',
      'Deployment/web': 'created',
    });
    expect(first.results.every((r) => r.id.namespace === namespace)).toBe(true);
    expect(first.inventoryWritten).toBe(true);
    expect(first.previousCommit).toBeUndefined();
    const live = await kubectlJson<LiveObject>(['-n', namespace, 'get', 'deployment', 'web']);
    expect(live.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'tether',
      'tether.dev/app': app,
    });
    // The deployment controller's entries (revision annotation, status) are the cluster's.
    const managers = (live.metadata.managedFields ?? []).filter(
      (f) => f.manager !== 'kube-controller-manager',
    );
    expect(managers.map((f) => [f.manager, f.operation])).toEqual([['tether', 'Apply']]);
    const inventory = await readInventory(conn, app, namespace);
    expect(inventory?.commit).toBe(commit);
    expect(inventory?.entries.map((e) => `${e.kind}/${e.namespace}/${e.name}`).sort()).toEqual([
      `ConfigMap/${namespace}/web-config`,
      `Deployment/${namespace}/web`,
    ]);

    const patchesBefore = requests(conn, 'patch');
    const writesBefore = writes(conn);
    const second = await applyCommit(run);
    expect(statuses(second.results)).toEqual({
      'ConfigMap/web-config': 'unchanged',
      'Deployment/web': 'unchanged',
    });
    expect(second.inventoryWritten).toBe(false);
    expect(second.previousCommit).toBe(commit);
    expect(requests(conn, 'patch')).toBe(patchesBefore);
    expect(writes(conn)).toBe(writesBefore);

    await kubectlEdit(namespace, 'deployment/web', 's#image: nginx:1.27#image: nginx:1.28#');
    const edited = await kubectlJson<LiveObject>(['-n', namespace, 'get', 'deployment', 'web']);
    expect(edited.spec?.template.spec.containers[0]?.image).toBe('nginx:1.28');

    const third = await applyCommit(run);
    expect(statuses(third.results)).toEqual({
      'ConfigMap/web-config': 'unchanged',
      'Deployment/web': 'configured',
    });
    const healed = third.results.find((r) => r.id.kind === 'Deployment')!;
    expect(healed.conflicts).toEqual([]);
    expect(healed.fields).toHaveLength(1);
    expect(healed.fields[0]).toMatchObject({
      path: '.spec.template.spec.containers[name=main].image',
      desired: 'nginx:1.27',
      live: 'nginx:1.28',
      owners: [{ manager: 'kubectl-edit', operation: 'Update' }],
    });
    // One write: the Deployment (same commit, same objects: the inventory is not rewritten).
    expect(requests(conn, 'patch')).toBe(patchesBefore + 1);
    expect(third.inventoryWritten).toBe(false);
    const after = await kubectlJson<LiveObject>(['-n', namespace, 'get', 'deployment', 'web']);
    expect(after.spec?.template.spec.containers[0]?.image).toBe('nginx:1.27');
  });

  it("leaves a field another server-side applier owns as 'conflict' under conflicts: report, and takes it with force", async () => {
    const { conn, namespace, app } = await t.fresh('shared');
    const commit = newCommit();
    const plan = planOf(
      conn,
      { 'cm.yaml': [configMap({ name: 'shared', data: { a: '1', b: '2' } })] },
      {
        namespace,
        app,
        commit,
      },
    );
    expect(statuses((await applyCommit(applyInput(conn, plan, { commit, app, namespace }))).results)).toEqual(
      {
        'ConfigMap/shared': 'created',
      },
    );
    await kubectl(
      ['apply', '--server-side', '--field-manager', 'other', '--force-conflicts', '-f', '-'],
      toYaml(configMap({ name: 'shared', namespace, data: { a: 'other' } })),
    );
    // And an imperative edit of another field: drift, healed whatever the conflict policy.
    await kubectl(['-n', namespace, 'patch', 'configmap', 'shared', '-p', '{"data":{"b":"edited"}}']);

    const reported = await applyCommit(
      applyInput(conn, plan, { commit, app, namespace }, { conflicts: 'report' }),
    );
    expect(statuses(reported.results)).toEqual({ 'ConfigMap/shared': 'conflict' });
    const r = reported.results[0]!;
    expect(r.conflicts).toEqual([
      {
        path: '.data.a',
        desired: '1',
        live: 'other',
        owners: [expect.objectContaining({ manager: 'other', operation: 'Apply' })],
      },
    ]);
    expect(r.fields.map((x) => [x.path, x.live])).toEqual([['.data.b', 'edited']]);
    expect(r.message).toBe('left 1 field(s) to other (conflict policy: report)');
    let live = await kubectlJson<LiveObject>(['-n', namespace, 'get', 'configmap', 'shared']);
    expect(live.data).toEqual({ a: 'other', b: '2' });

    // The conflict alone is no reason to write again.
    const patchesBefore = requests(conn, 'patch');
    const again = await applyCommit(
      applyInput(conn, plan, { commit, app, namespace }, { conflicts: 'report' }),
    );
    expect(statuses(again.results)).toEqual({ 'ConfigMap/shared': 'conflict' });
    expect(again.results[0]!.fields).toEqual([]);
    expect(requests(conn, 'patch')).toBe(patchesBefore);

    const forced = await applyCommit(
      applyInput(conn, plan, { commit, app, namespace }, { conflicts: 'force' }),
    );
    expect(statuses(forced.results)).toEqual({ 'ConfigMap/shared': 'configured' });
    const f = forced.results[0]!;
    expect(f.message).toBe('took over 1 field(s) from other (conflict policy: force)');
    expect(f.fields.map((x) => x.path)).toEqual(['.data.a']);
    live = await kubectlJson<LiveObject>(['-n', namespace, 'get', 'configmap', 'shared']);
    expect(live.data).toEqual({ a: '1', b: '2' });
    const owners = (field: string) =>
      (live.metadata.managedFields ?? [])
        .filter((m) => Object.hasOwn(m.fieldsV1?.['f:data'] ?? {}, field))
        .map((m) => m.manager);
    expect(owners('f:a')).toEqual(['tether']);
  });

  it('throws CommitRejectedError with typed ObjectErrors and writes nothing when objects fail their dry-run', async () => {
    const { conn, namespace, app } = await t.fresh('bad');
    const commit = newCommit();
    const text = toYaml(
      configMap({ name: 'fine', data: { a: '1' } }),
      deployment({ name: 'web', replicas: -1 }),
    );
    const line = text.split('\n').indexOf('---') + 2;
    const badPort = service({ name: 'api', ports: [{ port: 99999 }] });
    const plan = planOf(
      conn,
      { 'apps/web.yaml': text, 'apps/api.yaml': [badPort], 'apps/other.yaml': cms('also-fine') },
      { namespace, app, commit },
    );
    const writesBefore = writes(conn);

    const err = await applyCommit(applyInput(conn, plan, { commit, app, namespace })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CommitRejectedError);
    const rejected = err as CommitRejectedError;
    expect(rejected.message).toContain(`commit ${commit.slice(0, 7)} was rejected by the API server`);
    expect(rejected.hint).toContain('nothing was written');
    expect(rejected.errors).toHaveLength(2);
    for (const e of rejected.errors) {
      expect(e).toBeInstanceOf(ObjectError);
      expect(e).toBeInstanceOf(ObjectRejectedError);
    }
    const byKind = Object.fromEntries(rejected.errors.map((e) => [e.id.kind, e]));
    expect(byKind.Deployment!.id).toEqual({
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      namespace,
      name: 'web',
    });
    expect(byKind.Deployment!.source).toEqual({ file: 'apps/web.yaml', line, column: 1 });
    expect(byKind.Deployment!.detail).toContain('spec.replicas');
    expect(rejected.message).toContain(`apps/web.yaml:${line}:1: apps/v1 Deployment`);
    expect(byKind.Service!.id).toEqual({ group: '', version: 'v1', kind: 'Service', namespace, name: 'api' });
    expect(byKind.Service!.source).toEqual({ file: 'apps/api.yaml', line: 1, column: 1 });
    expect(byKind.Service!.detail).toContain('99999');

    expect(writes(conn)).toBe(writesBefore);
    expect(await namesOf(namespace, 'configmaps')).not.toContain('fine');
    expect(await namesOf(namespace, 'configmaps')).not.toContain('also-fine');
    expect(await readInventory(conn, app, namespace)).toBeUndefined();
  });

  it('prunes exactly the object removed from the plan when prune is on, and keeps it in the inventory when off', async () => {
    const { conn, namespace, app } = await t.fresh('prune');
    await kubectl(['-n', namespace, 'create', 'configmap', 'bystander', '--from-literal=k=v']);
    const c1 = newCommit();
    const plan1 = planOf(conn, { 'cms.yaml': cms('a', 'b', 'c') }, { namespace, app, commit: c1 });
    await applyCommit(applyInput(conn, plan1, { commit: c1, app, namespace }, { prune: true }));
    expect(await configMaps(namespace)).toEqual(['a', 'b', 'bystander', 'c']);

    // Prune off: c stays, and the inventory keeps it so that a later prune still finds it.
    const c2 = newCommit();
    const plan2 = planOf(conn, { 'cms.yaml': cms('a', 'b') }, { namespace, app, commit: c2 });
    const kept = await applyCommit(applyInput(conn, plan2, { commit: c2, app, namespace }, { prune: false }));
    expect(statuses(kept.results)).toEqual({ 'ConfigMap/a': 'unchanged', 'ConfigMap/b': 'unchanged' });
    expect(kept.inventoryWritten).toBe(true);
    expect(kept.previousCommit).toBe(c1);
    expect(await configMaps(namespace)).toEqual(['a', 'b', 'bystander', 'c']);
    let inventory = await readInventory(conn, app, namespace);
    expect(inventory?.commit).toBe(c2);
    expect(inventory?.entries.map((e) => e.name).sort()).toEqual(['a', 'b', 'c']);

    const c3 = newCommit();
    const plan3 = planOf(conn, { 'cms.yaml': cms('a', 'b') }, { namespace, app, commit: c3 });
    const deletesBefore = requests(conn, 'delete');
    const pruned = await applyCommit(
      applyInput(conn, plan3, { commit: c3, app, namespace }, { prune: true }),
    );
    expect(statuses(pruned.results)).toEqual({
      'ConfigMap/a': 'unchanged',
      'ConfigMap/b': 'unchanged',
      'ConfigMap/c': 'pruned',
    });
    expect(pruned.results.find((r) => r.status === 'pruned')!.id).toEqual({
      group: '',
      version: 'v1',
      kind: 'ConfigMap',
      namespace,
      name: 'c',
    });
    expect(requests(conn, 'delete')).toBe(deletesBefore + 1);
    expect(await configMaps(namespace)).toEqual(['a', 'b', 'bystander']);
    inventory = await readInventory(conn, app, namespace);
    expect(inventory?.commit).toBe(c3);
    expect(inventory?.entries.map((e) => e.name).sort()).toEqual(['a', 'b']);
  });

  it('refuses with PruneGuardError to prune more than half of the inventory unless allowed', async () => {
    const { conn, namespace, app } = await t.fresh('guard');
    const c1 = newCommit();
    await applyCommit(
      applyInput(
        conn,
        planOf(conn, { 'cms.yaml': cms('a', 'b', 'c', 'd') }, { namespace, app, commit: c1 }),
        {
          commit: c1,
          app,
          namespace,
        },
      ),
    );

    // 3 of 4: refused, nothing deleted, the inventory still the first commit's.
    const c2 = newCommit();
    const deletesBefore = requests(conn, 'delete');
    const err = await applyCommit(
      applyInput(
        conn,
        planOf(conn, { 'cms.yaml': cms('a') }, { namespace, app, commit: c2 }),
        { commit: c2, app, namespace },
        { prune: true },
      ),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PruneGuardError);
    expect((err as PruneGuardError).message).toContain(`app ${app} would delete 3 of its 4 objects`);
    expect((err as PruneGuardError).hint).toContain('--allow-mass-prune');
    expect(requests(conn, 'delete')).toBe(deletesBefore);
    expect(await configMaps(namespace)).toEqual(['a', 'b', 'c', 'd']);
    expect((await readInventory(conn, app, namespace))?.commit).toBe(c1);

    // Exactly half (2 of 4) is allowed.
    const c3 = newCommit();
    const half = await applyCommit(
      applyInput(
        conn,
        planOf(conn, { 'cms.yaml': cms('a', 'b') }, { namespace, app, commit: c3 }),
        { commit: c3, app, namespace },
        { prune: true },
      ),
    );
    expect(half.results.filter((r) => r.status === 'pruned').map((r) => r.id.name)).toEqual(['c', 'd']);
    expect(await configMaps(namespace)).toEqual(['a', 'b']);

    // All of it (2 of 2) only with allowMassPrune.
    const c4 = newCommit();
    const plan4 = planOf(conn, { 'cms.yaml': cms('e') }, { namespace, app, commit: c4 });
    // 'e' was created before the guard stopped the prune: the error carries that write, so
    // that the audit record names it.
    const stopped = await applyCommit(
      applyInput(conn, plan4, { commit: c4, app, namespace }, { prune: true }),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(stopped).toBeInstanceOf(ApplyInterruptedError);
    expect((stopped as ApplyInterruptedError).cause).toBeInstanceOf(PruneGuardError);
    expect((stopped as ApplyInterruptedError).results.map((r) => [r.status, r.id.name])).toEqual([
      ['created', 'e'],
    ]);
    expect(await configMaps(namespace)).toEqual(['a', 'b', 'e']);
    const all = await applyCommit(
      applyInput(conn, plan4, { commit: c4, app, namespace }, { prune: true, allowMassPrune: true }),
    );
    expect(statuses(all.results)).toEqual({
      'ConfigMap/e': 'unchanged',
      'ConfigMap/a': 'pruned',
      'ConfigMap/b': 'pruned',
    });
    expect(await configMaps(namespace)).toEqual(['e']);
  });
});
