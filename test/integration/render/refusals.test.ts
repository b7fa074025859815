/**
 * What a repository may not make the renderers do, tried as a hostile commit would, through
 * the CLI against the real API server: read a directory outside the repository, fetch a
 * remote base (a loopback server counts the requests), follow a symlink out, use a chart
 * dependency that is not vendored, run a command renderer the config does not allow. Each
 * is refused with the file, line and commit, and nothing is written.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureHelm, ensureKustomize } from '../../../tools/controlplane/build.ts';
import { createNamespace, kubectl, tether } from '../../support/cluster.ts';
import { gitServerSuite, syncedApp } from '../../support/suite.ts';

const suite = gitServerSuite();
let workDir: string;
let env: Record<string, string>;
let server: Server;
let port = 0;
const requests: string[] = [];
let outside: string;

const CM = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {a: "1"}\n`;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'tether-refusals-'));
  env = { TETHER_KUSTOMIZE: await ensureKustomize(), TETHER_HELM: await ensureHelm() };
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.end(CM('remote'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
  // A kustomization directory outside every repository, that a commit tries to reach.
  outside = mkdtempSync(join(tmpdir(), 'tether-outside-'));
  mkdirSync(join(outside, 'x'));
  writeFileSync(join(outside, 'x', 'kustomization.yaml'), 'resources: [cm.yaml]\n');
  writeFileSync(join(outside, 'x', 'cm.yaml'), CM('stolen'));
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function attempt(files: Record<string, string>, path: string, extra: string[] = []) {
  const name = `hostile-${Math.random().toString(36).slice(2, 8)}`;
  const repo = suite.git().createRepo(name);
  const sha = repo.commit(files, 'hostile');
  const { ns, run } = await syncedApp(suite, { repo: name, path, workDir, prefix: 'hostile', env });
  const result = await run(...extra);
  const written = await kubectl(['-n', ns, 'get', 'configmaps,deployments,services', '-o', 'name']);
  return {
    ...result,
    sha: sha.slice(0, 7),
    written: written.split('\n').filter((l) => l && !l.includes('kube-root-ca')),
  };
}

describe('renderers refuse what leaves the repository', () => {
  it('a base outside the repository, by relative path or absolute path', async () => {
    const depth = '../'.repeat(12);
    const r = await attempt(
      {
        'app/kustomization.yaml': `resources:\n  - ok.yaml\n  - ${depth}${outside.slice(1)}/x\n  - ${outside}/x\n`,
        'app/ok.yaml': CM('ok'),
      },
      'app',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`app/kustomization.yaml:3:5 (commit ${r.sha}): resources: ${depth}`);
    expect(r.stderr).toMatch(/leaves the repository/);
    expect(r.stderr).toContain(`app/kustomization.yaml:4:5 (commit ${r.sha})`);
    expect(r.stderr).toContain('nothing was applied');
    expect(r.written).toEqual([]);
  });

  it('remote resources and bases are refused before anything is fetched', async () => {
    const r = await attempt(
      {
        'app/kustomization.yaml': `resources:\n  - ok.yaml\n  - http://127.0.0.1:${port}/remote.yaml\n  - https://127.0.0.1:${port}/b\n  - git@127.0.0.1:org/repo.git//base?ref=v1\n`,
        'app/ok.yaml': CM('ok'),
      },
      'app',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `app/kustomization.yaml:3:5 (commit ${r.sha}): resources: remote http://127.0.0.1:${port}/remote.yaml is refused`,
    );
    expect(r.stderr).toMatch(/render\.allowRemoteBases/);
    expect(r.stderr.match(/is refused: this app does not allow remote bases/g)).toHaveLength(3);
    expect(requests.filter((u) => u === '/remote.yaml' || u === '/b')).toEqual([]);
    expect(r.written).toEqual([]);
  });

  it('a remote resource is fetched only for an app whose config allows remote bases', async () => {
    const name = `remote-${Math.random().toString(36).slice(2, 8)}`;
    suite
      .git()
      .createRepo(name)
      .commit({
        'app/kustomization.yaml': `resources:\n  - http://127.0.0.1:${port}/remote.yaml\n`,
      });
    const ns = await createNamespace('remote');
    suite.cleanups.push(ns.cleanup);
    const config = join(workDir, `${name}.yaml`);
    writeFileSync(
      config,
      `apps:\n  - name: remote\n    source: {repo: ${suite.git().url(name)}, path: app}\n    destination: {namespace: ${ns.name}}\n    render: {allowRemoteBases: true}\n`,
    );
    const before = requests.length;
    const r = await tether(
      ['sync', '--config', config, '--audit-log', join(workDir, `${name}.jsonl`)],
      env,
      workDir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(requests.slice(before)).toEqual(['/remote.yaml']);
    expect(await kubectl(['-n', ns.name, 'get', 'configmap', 'remote', '-o', 'name'])).toContain('remote');
  });

  it('a symlink leaving the repository', async () => {
    const name = `hostile-link-${Math.random().toString(36).slice(2, 8)}`;
    const repo = suite.git().createRepo(name);
    repo.commit({ 'app/kustomization.yaml': 'resources: [ok.yaml, linked]\n', 'app/ok.yaml': CM('ok') });
    const work = repo.git(['rev-parse', '--show-toplevel']);
    symlinkSync(join(outside, 'x'), join(work, 'app', 'linked'));
    repo.git(['add', '-A']);
    repo.git(['commit', '-qm', 'link out']);
    repo.git(['push', '-q', 'origin', 'HEAD:refs/heads/main']);
    const { ns, run } = await syncedApp(suite, { repo: name, path: 'app', workDir, prefix: 'hostile', env });
    const r = await run();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/app\/linked .*symlink to absolute path .* refused/);
    expect(await kubectl(['-n', ns, 'get', 'configmap', 'ok', '--ignore-not-found'])).toBe('');
  });

  it('a chart dependency that is not vendored is named; a chart is never read as plain manifests', async () => {
    const r = await attempt(
      {
        'web/Chart.yaml':
          'apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n  - name: redis\n    version: 19.0.0\n    repository: https://charts.example.com\n',
        'web/values.yaml': 'a: 1\n',
        'web/templates/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}}\n',
      },
      'web',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `web/Chart.yaml:5:11 (commit ${r.sha}): chart dependency redis (https://charts.example.com) is not vendored under web/charts/`,
    );
    expect(r.stderr).toContain('helm dependency build');
    expect(r.stderr).not.toMatch(/kind is missing/);
    expect(r.written).toEqual([]);
  });

  it('command renderers run only when the app config allows them', async () => {
    const name = `cmd-${Math.random().toString(36).slice(2, 8)}`;
    const repo = suite.git().createRepo(name);
    repo.commit({
      'gen/tether-render.yaml':
        'renderer: command\ncommand: ["/bin/sh", "-c", "printf \'apiVersion: v1\\\\nkind: ConfigMap\\\\nmetadata: {name: generated}\\\\n\'"]\n',
    });
    const ns = await createNamespace('cmd');
    suite.cleanups.push(ns.cleanup);
    const config = (allow: boolean) => {
      const file = join(workDir, `${name}-${allow}.yaml`);
      writeFileSync(
        file,
        `apps:\n  - name: gen\n    source: {repo: ${suite.git().url(name)}, path: gen}\n    destination: {namespace: ${ns.name}}\n    render: {allowCommands: ${allow}}\n`,
      );
      return file;
    };
    const audit = join(workDir, `${name}.jsonl`);
    const refused = await tether(
      ['sync', '--config', config(false), '--app', 'gen', '--audit-log', audit],
      env,
      workDir,
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/command renderers are disabled.*render\.allowCommands/s);
    const allowed = await tether(
      ['sync', '--config', config(true), '--app', 'gen', '--audit-log', audit],
      env,
      workDir,
    );
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(await kubectl(['-n', ns.name, 'get', 'configmap', 'generated', '-o', 'name'])).toContain(
      'generated',
    );
  });
});
