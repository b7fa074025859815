/**
 * Refusals that are the cluster's state, not the commit's: a namespace being deleted or
 * missing. The user is told so (not "fix the manifests"), nothing is written, exit 2.
 * The test control plane's namespace controller finishes deleting a namespace within
 * seconds; an object with a finalizer of the test's own holds it Terminating (as a workload
 * with a finalizer does in a cluster): exactly the window in which users meet this.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, kubectl, tether } from '../support/cluster.ts';
import { GitServer, type Repo } from '../support/git-server.ts';
import { configMap, toYaml } from '../support/objects.ts';

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
  const run = (command: 'sync' | 'drift', namespace: string, app: string, ...extra: string[]) => {
    const source = ['--repo', git.url('conditions'), '--path', 'app'];
    return tether([command, ...source, '-n', namespace, '--app', app, ...extra]);
  };

  it('says a namespace being deleted is the cluster state, and writes nothing', async () => {
    const ns = await createNamespace('dying');
    const live = await createNamespace('alive');
    const hold = configMap({ name: 'hold', namespace: ns.name });
    hold.metadata.finalizers = ['tether.test/hold'];
    await kubectl(['apply', '-f', '-'], toYaml(hold));
    try {
      await kubectl(['delete', 'namespace', ns.name, '--wait=false']);
      repo.commit({
        'app/a.yaml': toYaml(configMap({ name: 'a', namespace: ns.name, data: { k: 'v' } })),
      });
      const r = await run('sync', live.name, 'dying');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('cannot be applied to the cluster as it is now');
      expect(r.stderr).toMatch(
        /app\/a\.yaml:1:1: v1 ConfigMap .*being terminated.*its namespace is being deleted/,
      );
      expect(r.stderr).toContain('hint: these are conditions of the cluster, not errors in the commit');
      expect(r.stderr).not.toMatch(/fix the manifests/);
      expect(
        await kubectl(['-n', live.name, 'get', 'configmap', '--ignore-not-found', 'tether-inventory-dying']),
      ).toBe('');
    } finally {
      // Let the namespace controller finish.
      await kubectl([
        '-n',
        ns.name,
        'patch',
        'configmap',
        'hold',
        '--type=merge',
        '-p',
        '{"metadata":{"finalizers":null}}',
      ]);
      await live.cleanup();
    }
  });

  it('says a missing namespace is the cluster state', async () => {
    const live = await createNamespace('alive');
    try {
      repo.commit({
        'app/a.yaml': toYaml(configMap({ name: 'a', namespace: 'no-such-namespace-x1', data: { k: 'v' } })),
      });
      const r = await run('drift', live.name, 'missing-ns', '-o', 'json');
      // drift reports a missing object in a missing namespace; sync says why it cannot apply.
      expect(r.code).toBe(1);
      const s = await run('sync', live.name, 'missing-ns');
      expect(s.code).toBe(2);
      expect(s.stderr).toMatch(/its namespace does not exist: create it/);
    } finally {
      await live.cleanup();
    }
  });
});
