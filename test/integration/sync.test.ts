/**
 * `tether sync` end to end, as a user runs it: the real CLI against a real kube-apiserver and
 * a real git smart-HTTP server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitServer, type Repo } from '../support/git-server.ts';
import { createNamespace, kubectl, kubectlJson, tether } from '../support/cluster.ts';
import { configMap, deployment, toYaml } from '../support/objects.ts';

const creds = { username: 'deployer', password: 's3cret-Pa55' };

const configMapYaml = (name: string, data: Record<string, string>) => toYaml(configMap({ name, data }));

/** The Deployment of these tests: one container with a CPU request. */
const appDeployment = (name: string, image: string, replicas = 1) =>
  deployment({ name, image, replicas, container: { resources: { requests: { cpu: '100m' } } } });

interface ManagedFields {
  metadata: { managedFields?: { manager: string; operation: string }[]; labels?: Record<string, string> };
  data?: Record<string, string>;
}

describe('tether sync', () => {
  let git: GitServer;
  let repo: Repo;
  let ns: { name: string; cleanup: () => Promise<void> };
  let url: string;

  beforeAll(async () => {
    git = await GitServer.start({ auth: creds });
    repo = git.createRepo('deploy');
    url = git.url('deploy', creds);
    ns = await createNamespace('sync');
  });

  afterAll(async () => {
    await ns.cleanup();
    repo.dispose();
    await git.close();
  });

  it('applies a commit from an HTTP remote with Basic auth, then reports unchanged, then configured', async () => {
    const sha = repo.commit(
      {
        'apps/web/config.yaml': configMapYaml('web-config', { LOG_LEVEL: 'info' }),
        'apps/web/deploy.yaml': toYaml(appDeployment('web', 'nginx:1.27')),
        'apps/other/ignored.yaml': configMapYaml('not-synced', { a: 'b' }),
      },
      'first',
    );
    const first = await tether(['sync', '--repo', url, '--path', 'apps/web', '-n', ns.name]);
    expect(first.stderr).not.toContain(creds.password);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`commit ${sha}`);
    expect(first.stdout).toMatch(/created\s+v1 ConfigMap .*web-config/);
    expect(first.stdout).toMatch(/created\s+apps\/v1 Deployment .*web/);
    expect(first.stdout).not.toContain('not-synced');
    expect(first.stdout).not.toContain(creds.password);

    const live = await kubectlJson<ManagedFields>(['-n', ns.name, 'get', 'deployment', 'web']);
    expect(live.metadata.managedFields).toContainEqual(
      expect.objectContaining({ manager: 'tether', operation: 'Apply' }),
    );
    expect(live.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'tether' });
    // No --app: named after the path, with a digest of the source so that another
    // repository's apps/web never shares it.
    expect(live.metadata.labels?.['tether.dev/app']).toMatch(/^web-[0-9a-f]{8}$/);

    const second = await tether(['sync', '--repo', url, '--path', 'apps/web', '-n', ns.name]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/unchanged\s+v1 ConfigMap .*web-config/);
    expect(second.stdout).toMatch(/unchanged\s+apps\/v1 Deployment .*web/);

    repo.commit({ 'apps/web/config.yaml': configMapYaml('web-config', { LOG_LEVEL: 'debug' }) }, 'more logs');
    const third = await tether(['sync', '--repo', url, '--path', 'apps/web', '-n', ns.name]);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toMatch(/configured\s+v1 ConfigMap .*web-config/);
    expect(third.stdout).toMatch(/unchanged\s+apps\/v1 Deployment .*web/);
    const cm = await kubectlJson<ManagedFields>(['-n', ns.name, 'get', 'configmap', 'web-config']);
    expect(cm.data).toEqual({ LOG_LEVEL: 'debug' });
  });

  it('applies the same commit from a local repository path', async () => {
    const other = await createNamespace('local');
    try {
      const sha = repo.commit(
        { 'apps/local/cm.yaml': configMapYaml('web-config', { LOG_LEVEL: 'debug' }) },
        'local',
      );
      const r = await tether([
        'sync',
        '--repo',
        git.repoPath('deploy'),
        '--path',
        'apps/local',
        '-n',
        other.name,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`commit ${sha}`);
      expect(r.stdout).toMatch(/created\s+v1 ConfigMap .*web-config/);
      const cm = await kubectlJson<ManagedFields>(['-n', other.name, 'get', 'configmap', 'web-config']);
      expect(cm.data).toEqual({ LOG_LEVEL: 'debug' });
    } finally {
      await other.cleanup();
    }
  });

  it('fails clearly on a wrong password and never prints it', async () => {
    const wrong = git.url('deploy', { username: creds.username, password: 'wrong-Pa55word' });
    const r = await tether(['sync', '--repo', wrong, '--path', 'apps/web', '-n', ns.name]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/auth/i);
    expect(r.stderr).toContain(`127.0.0.1`);
    expect(r.stderr + r.stdout).not.toContain('wrong-Pa55word');
    expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(3);
  });

  it('fails clearly when the repository is unreachable', async () => {
    const r = await tether(['sync', '--repo', 'http://127.0.0.1:9/nothing.git', '-n', ns.name]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('127.0.0.1:9');
  });

  it('fails clearly when the path does not exist in the commit', async () => {
    const r = await tether(['sync', '--repo', url, '--path', 'apps/nope', '-n', ns.name]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('apps/nope');
    expect(r.stderr).toContain(repo.head().slice(0, 7));
  });

  it('writes nothing when one file of the commit is invalid YAML, naming the file, line and commit', async () => {
    const sha = repo.commit(
      {
        'apps/bad/a-good.yaml': configMapYaml('good-one', { a: '1' }),
        'apps/bad/b-broken.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata:\n  key: "unclosed\n',
      },
      'broken',
    );
    const r = await tether(['sync', '--repo', url, '--path', 'apps/bad', '-n', ns.name]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/apps\/bad\/b-broken\.yaml:\d+/);
    expect(r.stderr).toContain(sha.slice(0, 7));
    const names = await kubectl(['-n', ns.name, 'get', 'configmaps', '-o', 'name']);
    expect(names).not.toContain('good-one');
  });

  it('writes nothing when the API server rejects one object, naming its file', async () => {
    const bad = appDeployment('bad', 'nginx:1.27');
    repo.commit(
      {
        'apps/rejected/a-good.yaml': configMapYaml('also-good', { a: '1' }),
        // `replicas` must be an integer: strict field validation rejects it at dry-run.
        'apps/rejected/b-deploy.yaml': toYaml({ ...bad, spec: { ...bad.spec, replicas: 'two' } }),
      },
      'rejected',
    );
    const r = await tether(['sync', '--repo', url, '--path', 'apps/rejected', '-n', ns.name]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('apps/rejected/b-deploy.yaml:1');
    expect(r.stderr).toMatch(/replicas/);
    const names = await kubectl(['-n', ns.name, 'get', 'configmaps', '-o', 'name']);
    expect(names).not.toContain('also-good');
  });
});

describe('tether command line', () => {
  it('exits 2 on usage errors (1 is reserved for "differences found"), 0 on --help', async () => {
    const bogus = await tether(['drift', '--bogus']);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("unknown option '--bogus'");
    expect((await tether(['diff', '-o', 'yaml'])).code).toBe(2);
    const help = await tether(['drift', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
  });
});
