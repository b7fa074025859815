/**
 * Refusals that are the cluster's state, not the commit's: a namespace being deleted or
 * missing, a kind whose CRD is not installed, a request RBAC forbids. The user is told what
 * to check in the cluster (not "fix the manifests"), nothing is written, exit 2. A finalizer
 * of the test's own holds the deleted namespace in Terminating (with or without a namespace
 * controller): exactly the window in which users meet this.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createNamespace, impersonatingKubeconfig, kubectl, tether } from '../support/cluster.ts';
import { GitServer, type Repo } from '../support/git-server.ts';
import { configMap, kubeObject, toYaml } from '../support/objects.ts';

describe('cluster conditions', () => {
  let git: GitServer;
  let repo: Repo;
  beforeAll(async () => {
    git = await GitServer.start();
    repo = git.createRepo('conditions');
  });
  afterAll(async () => {
    repo.dispose();
    await git.close();
  });

  /** `tether <command>` of the repository's app/ folder into `namespace` as app `app`. */
  const run = (
    command: 'sync' | 'drift' | 'diff',
    namespace: string,
    app: string,
    extra: string[] = [],
    env: Record<string, string> = {},
  ) => {
    const source = ['--repo', git.url('conditions'), '--path', 'app'];
    return tether([command, ...source, '-n', namespace, '--app', app, ...extra], env);
  };

  it('says a namespace being deleted is the cluster state, and writes nothing', async () => {
    const ns = await createNamespace('dying');
    const live = await createNamespace('alive');
    const hold = ['patch', 'namespace', ns.name, '--type=merge', '-p'];
    try {
      await kubectl([...hold, '{"metadata":{"finalizers":["tether.dev/test-hold"]}}']);
      await kubectl(['delete', 'namespace', ns.name, '--wait=false']);
      repo.commit({
        'app/a.yaml': toYaml(configMap({ name: 'a', namespace: ns.name, data: { k: 'v' } })),
      });
      const r = await run('sync', live.name, 'dying');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('cannot be applied to the cluster as it is now');
      expect(r.stderr).toMatch(
        new RegExp(
          `app/a\\.yaml:1:1: v1 ConfigMap .*being terminated.*its namespace ${ns.name} is being deleted: wait until it is gone`,
        ),
      );
      expect(r.stderr).toContain(`kubectl get namespace ${ns.name} -o yaml`);
      expect(r.stderr).toContain('hint: these are conditions of the cluster, not errors in the commit');
      expect(r.stderr).not.toMatch(/fix the manifests/);
      expect(
        await kubectl(['-n', live.name, 'get', 'configmap', '--ignore-not-found', 'tether-inventory-dying']),
      ).toBe('');
    } finally {
      await kubectl([...hold, '{"metadata":{"finalizers":null}}']);
      await live.cleanup();
    }
  });

  it('says a missing namespace is the cluster state', async () => {
    const live = await createNamespace('alive');
    try {
      repo.commit({
        'app/a.yaml': toYaml(configMap({ name: 'a', namespace: 'no-such-namespace-x1', data: { k: 'v' } })),
      });
      const r = await run('drift', live.name, 'missing-ns', ['-o', 'json']);
      // drift reports a missing object in a missing namespace; sync says why it cannot apply.
      expect(r.code).toBe(1);
      const s = await run('sync', live.name, 'missing-ns');
      expect(s.code).toBe(2);
      expect(s.stderr).toMatch(
        /its namespace does not exist: create it \(kubectl create namespace no-such-namespace-x1\) or add its Namespace to the repository/,
      );
      expect(s.stderr).not.toMatch(/fix the manifests/);
    } finally {
      await live.cleanup();
    }
  });

  it('says a kind the cluster does not serve needs its CRD installed, and writes nothing', async () => {
    const live = await createNamespace('nocrd');
    try {
      repo.commit({
        'app/a.yaml': toYaml(
          configMap({ name: 'a', data: { k: 'v' } }),
          kubeObject('widgets.tether-test.dev/v1', 'Widget', { name: 'w' }, { spec: { size: 1 } }),
        ),
      });
      const s = await run('sync', live.name, 'no-crd');
      expect(s.code).toBe(2);
      expect(s.stderr).toContain(
        'app/a.yaml:8:1: widgets.tether-test.dev/v1 Widget w: the cluster does not serve widgets.tether-test.dev/v1 Widget; install the CustomResourceDefinition of Widget (group widgets.tether-test.dev) in the cluster first, or add it to the repository',
      );
      expect(s.stderr).toMatch(
        /hint: the cluster does not serve these kinds: install their CustomResourceDefinitions/,
      );
      expect(s.stderr).not.toMatch(/fix the manifests/);
      expect(await kubectl(['-n', live.name, 'get', 'configmap', '--ignore-not-found', 'a'])).toBe('');
    } finally {
      await live.cleanup();
    }
  });

  it('names the verb, resource, namespace and identity RBAC forbids, for sync and diff alike', async () => {
    const live = await createNamespace('rbac');
    const user = `tether-test-${randomBytes(3).toString('hex')}`;
    try {
      // It may read ConfigMaps (its inventory, the live objects) but not write them.
      await kubectl([
        '-n',
        live.name,
        'create',
        'role',
        'read',
        '--verb=get,list,watch',
        '--resource=configmaps',
      ]);
      await kubectl(['-n', live.name, 'create', 'rolebinding', 'read', '--role=read', `--user=${user}`]);
      repo.commit({ 'app/a.yaml': toYaml(configMap({ name: 'a', data: { k: 'v' } })) });
      const env = { KUBECONFIG: await impersonatingKubeconfig(user) };
      for (const command of ['sync', 'diff'] as const) {
        const r = await run(command, live.name, 'rbac', [], env);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toContain(
          `app/a.yaml:1:1: v1 ConfigMap ${live.name}/a: configmaps "a" is forbidden: User "${user}" cannot patch resource "configmaps"`,
        );
        expect(r.stderr).toContain(
          `the cluster's RBAC forbids it: grant ${user}, the identity Tether runs as, the verb patch on configmaps in namespace ${live.name}`,
        );
        expect(r.stderr).toContain('hint: these are conditions of the cluster, not errors in the commit');
        expect(r.stderr).not.toMatch(/fix the manifests/);
      }
      expect(await kubectl(['-n', live.name, 'get', 'configmap', '--ignore-not-found', 'a'])).toBe('');
    } finally {
      await live.cleanup();
    }
  });
});
