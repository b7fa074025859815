/**
 * Nobody else's objects: an app's identity is unique and stable (a default name derived from
 * repository and path), an object another app applied is refused unless adopted, and prune
 * deletes only what this app's label, inventory and recorded source all name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, kubectl, kubectlJson, tether } from '../support/cluster.ts';
import { GitServer, type Repo } from '../support/git-server.ts';
import { configMap, toYaml } from '../support/objects.ts';

interface Meta {
  metadata: { labels: Record<string, string>; annotations: Record<string, string> };
}

describe('app identity and ownership', () => {
  let git: GitServer;
  let teamA: Repo;
  let teamB: Repo;
  let ns: { name: string; cleanup: () => Promise<void> };
  const cm = (name: string) => toYaml(configMap({ name, data: { k: name } }));
  const live = (name: string) =>
    kubectl(['-n', ns.name, 'get', 'configmap', '--ignore-not-found', name, '-o', 'name']);

  beforeAll(async () => {
    git = await GitServer.start();
    teamA = git.createRepo('team-a');
    teamB = git.createRepo('team-b');
    ns = await createNamespace('ident');
  });
  afterAll(async () => {
    teamA.dispose();
    teamB.dispose();
    await git.close();
    await ns.cleanup();
  });

  it('keeps two repositories whose paths end in the same folder apart, prune included', async () => {
    teamA.commit({ 'deploy/kustomize/a.yaml': cm('from-a') });
    teamB.commit({ 'deploy/kustomize/b.yaml': cm('from-b'), 'deploy/kustomize/b2.yaml': cm('from-b2') });
    const sync = (repo: string, extra: string[] = []) =>
      tether(['sync', '--repo', git.url(repo), '--path', 'deploy/kustomize', '-n', ns.name, ...extra]);
    expect((await sync('team-a')).code).toBe(0);
    expect((await sync('team-b')).code).toBe(0);
    const a = await kubectlJson<Meta>(['-n', ns.name, 'get', 'configmap', 'from-a']);
    const b = await kubectlJson<Meta>(['-n', ns.name, 'get', 'configmap', 'from-b']);
    expect(a.metadata.labels['tether.dev/app']).toMatch(/^kustomize-[0-9a-f]{8}$/);
    expect(b.metadata.labels['tether.dev/app']).toMatch(/^kustomize-[0-9a-f]{8}$/);
    expect(a.metadata.labels['tether.dev/app']).not.toBe(b.metadata.labels['tether.dev/app']);
    expect(a.metadata.annotations['tether.dev/source']).toMatch(/\/team-a\/\/deploy\/kustomize$/);

    teamB.commit({ 'deploy/kustomize/b2.yaml': null });
    const pruned = await sync('team-b', ['--prune']);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(/pruned\s+v1 ConfigMap \S+\/from-b2/);
    expect(await live('from-a')).toContain('from-a');
    expect(await live('from-b2')).toBe('');
  });

  it('refuses an object another app applied, names both apps, applies the rest, and adopts only when told', async () => {
    teamA.commit({
      'manifests/setup/crds.yaml': cm('platform-crds'),
      'manifests/main.yaml': cm('main-settings'),
    });
    const run = (app: string, path: string, extra: string[] = []) =>
      tether(['sync', '--repo', git.url('team-a'), '--path', path, '-n', ns.name, '--app', app, ...extra]);
    expect((await run('setup', 'manifests/setup')).code).toBe(0);

    const main = await run('main', 'manifests');
    expect(main.code).toBe(3);
    expect(main.stdout).toMatch(
      /conflict\s+v1 ConfigMap \S+\/platform-crds .*belongs to app setup, not main/,
    );
    expect(main.stdout).toMatch(/created\s+v1 ConfigMap \S+\/main-settings/);
    const still = await kubectlJson<Meta>(['-n', ns.name, 'get', 'configmap', 'platform-crds']);
    expect(still.metadata.labels['tether.dev/app']).toBe('setup');

    // Leaving the other app's directory out resolves it: --no-recursive, or --exclude.
    expect((await run('main', 'manifests', ['--no-recursive'])).code).toBe(0);
    expect((await run('main', 'manifests', ['--exclude', 'setup/**'])).code).toBe(0);

    // An explicit --adopt takes it over.
    const adopted = await run('main', 'manifests', ['--adopt']);
    expect(adopted.code).toBe(0);
    expect(adopted.stdout).toMatch(/configured\s+v1 ConfigMap \S+\/platform-crds/);
    const now = await kubectlJson<Meta>(['-n', ns.name, 'get', 'configmap', 'platform-crds']);
    expect(now.metadata.labels['tether.dev/app']).toBe('main');
  });

  it('never prunes an object whose recorded source is another repository, even under the same app name', async () => {
    teamA.commit({ 'shared/x.yaml': cm('a-owned') });
    teamB.commit({ 'shared/y.yaml': cm('b-owned') });
    const run = (repo: string, extra: string[] = []) =>
      tether([
        'sync',
        '--repo',
        git.url(repo),
        '--path',
        'shared',
        '-n',
        ns.name,
        '--app',
        'same-name',
        ...extra,
      ]);
    expect((await run('team-a')).code).toBe(0);
    // team-b reuses the name: a-owned is in the inventory and carries the label, but not team-b's source.
    const r = await run('team-b', ['--prune']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/pruned/);
    expect(await live('a-owned')).toContain('a-owned');
  });
});
