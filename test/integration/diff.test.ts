/**
 * `tether diff` for pull requests: a branch that changes a Deployment's image and removes a
 * ConfigMap, compared with the live cluster by server-side dry-run, writing nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitServer, type Repo } from '../support/git-server.ts';
import { startAgent, waitFor } from '../support/agent.ts';
import { createNamespace, jsonpath, kubectl, tether } from '../support/cluster.ts';
import { configMap, deployment, secret, toYaml } from '../support/objects.ts';

const deploymentYaml = (image: string) =>
  toYaml(deployment({ name: 'web', replicas: 1, image, container: { name: 'web' } }));
const legacyYaml = toYaml(configMap({ name: 'legacy', data: { a: '1' } }));
const secretYaml = (v: string) => toYaml(secret({ name: 'creds', stringData: { password: v } }));

interface DiffJson {
  commit: string;
  base: string;
  touched: { change: string; kind: string; name: string; file: string }[];
  objects: {
    kind: string;
    name: string;
    action: string;
    fields: { path: string; owners: { manager: string }[] }[];
    patch: unknown[];
  }[];
}

describe('tether diff', () => {
  let git: GitServer;
  let repo: Repo;
  let ns: { name: string; cleanup: () => Promise<void> };
  let args: (ref: string, extra?: string[]) => string[];

  beforeAll(async () => {
    git = await GitServer.start();
    repo = git.createRepo('pr');
    ns = await createNamespace('diff');
    args = (ref, extra = []) => [
      '--repo',
      git.url('pr'),
      '--ref',
      ref,
      '--path',
      'app',
      '-n',
      ns.name,
      '--app',
      'pr',
      ...extra,
    ];
    repo.commit(
      {
        'app/web.yaml': deploymentYaml('nginx:1.27'),
        'app/legacy.yaml': legacyYaml,
        'app/secret.yaml': secretYaml('old-pass-123'),
      },
      'base',
    );
    const r = await tether(['sync', ...args('main', ['--prune'])]);
    expect(r.code, r.stderr).toBe(0);
    repo.git(['checkout', '-q', '-b', 'feature']);
    repo.git(['rm', '-q', 'app/legacy.yaml']);
    repo.git(['commit', '-q', '-m', 'drop legacy config']);
    repo.git(['push', '-q', 'origin', 'feature']);
    const fs = await import('node:fs');
    fs.writeFileSync(
      `${repo.git(['rev-parse', '--show-toplevel'])}/app/web.yaml`,
      deploymentYaml('nginx:1.28'),
    );
    fs.writeFileSync(
      `${repo.git(['rev-parse', '--show-toplevel'])}/app/secret.yaml`,
      secretYaml('new-pass-456'),
    );
    repo.git(['commit', '-q', '-am', 'bump nginx and rotate']);
    repo.git(['push', '-q', 'origin', 'feature']);
  });

  afterAll(async () => {
    await ns.cleanup();
    repo.dispose();
    await git.close();
  });

  it('shows the changed image with its current owner and the removed ConfigMap, exits 1, writes nothing', async () => {
    const r = await tether(['diff', ...args('feature', ['--base', 'main', '--prune', '-o', 'json'])]);
    expect(r.code, r.stderr).toBe(1);
    const json = JSON.parse(r.stdout) as DiffJson;
    expect(json.touched.map((t) => `${t.change} ${t.kind}/${t.name}`).sort()).toEqual([
      'modified Deployment/web',
      'modified Secret/creds',
      'removed ConfigMap/legacy',
    ]);
    const web = json.objects.find((o) => o.kind === 'Deployment')!;
    expect(web.action).toBe('update');
    expect(web.fields).toEqual([
      expect.objectContaining({
        path: '.spec.template.spec.containers[name=web].image',
        owners: [expect.objectContaining({ manager: 'tether' })],
      }),
    ]);
    expect(web.patch).toContainEqual({
      op: 'replace',
      path: '/spec/template/spec/containers/0/image',
      value: 'nginx:1.28',
    });
    expect(json.objects.find((o) => o.kind === 'ConfigMap')!.action).toBe('delete');
    // Secret values never appear, in any output.
    expect(r.stdout).not.toContain('pass-123');
    expect(r.stdout).not.toContain('pass-456');
    expect(await jsonpath(ns.name, 'deploy', 'web', '{.spec.template.spec.containers[0].image}')).toBe(
      'nginx:1.27',
    );
    expect(await kubectl(['-n', ns.name, 'get', 'cm', '-o', 'name'])).toContain('configmap/legacy');
  });

  it('renders Markdown for a PR comment: a table and one details block per changed object, secrets masked', async () => {
    const r = await tether(['diff', ...args('feature', ['--base', 'main', '--prune', '-o', 'markdown'])]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^### Tether diff/);
    expect(r.stdout).toMatch(/\| update \| apps\/v1 Deployment \S+\/web \| 1 \|/);
    expect(r.stdout.match(/<details>/g)).toHaveLength(3);
    expect(r.stdout).toMatch(/^\+\s+image: nginx:1\.28$/m);
    expect(r.stdout).toContain('***');
    expect(r.stdout).not.toMatch(/pass-(123|456)/);
  });

  it('names the owner of a field someone changed by hand', async () => {
    await kubectl(['-n', ns.name, 'set', 'image', 'deployment/web', 'web=nginx:hotfix']);
    const r = await tether(['diff', ...args('feature', ['-o', 'json'])]);
    const web = (JSON.parse(r.stdout) as DiffJson).objects.find((o) => o.kind === 'Deployment')!;
    expect(web.fields[0]!.owners.map((o) => o.manager)).toContain('kubectl-set');
  });

  it('after the merge, the agent applies it and tether drift exits 0', async () => {
    repo.git(['checkout', '-q', 'main']);
    repo.git(['merge', '-q', '--ff-only', 'feature']);
    repo.git(['push', '-q', 'origin', 'main']);
    const merged = repo.head('main');
    const agent = await startAgent({
      apps: `  - name: pr
    source: {repo: "${git.url('pr')}", ref: main, path: app, interval: 1s}
    destination: {namespace: ${ns.name}, kubeconfig: KUBECONFIG}
    sync: {mode: apply, prune: true}
`,
    });
    try {
      await waitFor(
        async () => (await agent.status()).apps[0]!.lastAppliedCommit === merged,
        30_000,
        'the merge applied',
      );
    } finally {
      await agent.stop('SIGTERM');
    }
    const drift = await tether(['drift', ...args('main')]);
    expect(drift.stdout).toMatch(/\d+ in-sync$/m);
    expect(drift.code, drift.stdout).toBe(0);
    const diff = await tether(['diff', ...args('main', ['--prune'])]);
    expect(diff.stdout).toContain('no changes');
    expect(diff.code).toBe(0);
    expect(await kubectl(['-n', ns.name, 'get', 'cm', '-o', 'name'])).not.toContain('configmap/legacy');
  });
});
