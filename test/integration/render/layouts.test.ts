/**
 * Realistic repository layouts (test/fixtures/repos), each run the way a user runs Tether:
 * the CLI from another directory against the real API server, served by the real git
 * smart-HTTP server and by a real OpenSSH server, rendered by the real kustomize and helm. For each: sync, drift 0 right after, a
 * second sync all unchanged, an out-of-band `kubectl scale` named with its manager and
 * healed, and a prune of exactly the object of a removed file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureHelm, ensureKustomize } from '../../../tools/controlplane/build.ts';
import { createNamespace, jsonpath, kubectl, tether } from '../../support/cluster.ts';
import { fixtureFiles } from '../../support/fixture-repos.ts';
import type { Repo } from '../../support/git-server.ts';
import { Sshd } from '../../support/sshd.ts';
import { gitServerSuite } from '../../support/suite.ts';

interface DriftObject {
  kind: string;
  name: string;
  status: string;
  file: string;
  fields: { path: string; owners: { manager: string }[] }[];
}

const suite = gitServerSuite();
let workDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'tether-layouts-'));
  // Renderers are found as a user's agent finds them: here, the project's own builds.
  env = { TETHER_KUSTOMIZE: await ensureKustomize(), TETHER_HELM: await ensureHelm() };
});

interface Layout {
  fixture: string;
  path: string;
  /** The Deployment that `kubectl scale` changes. */
  deployment: (app: string) => string;
  /** Files changed to remove one object, and that object's kind/name. */
  removal: (files: Record<string, string>) => Record<string, string | null>;
  removed: (app: string) => string;
  /** Where a rendered object must say it came from. */
  origins: (app: string) => Record<string, string>;
}

const layouts: Layout[] = [
  {
    fixture: 'overlays',
    path: 'deploy/overlays/dev',
    deployment: () => 'dev-backend',
    removal: (f) => ({
      'deploy/overlays/dev/worker-config.yaml': null,
      'deploy/overlays/dev/kustomization.yaml': f['deploy/overlays/dev/kustomization.yaml']!.replace(
        '  - worker-config.yaml\n',
        '',
      ),
    }),
    removed: () => 'ConfigMap/dev-worker',
    origins: () => ({
      'Deployment/dev-backend': 'deploy/bases/backend/deployment.yaml',
      'Service/dev-backend': 'deploy/bases/backend/service.yaml',
      'ConfigMap/dev-worker': 'deploy/overlays/dev/worker-config.yaml',
    }),
  },
  {
    fixture: 'chart',
    path: 'envs/dev',
    deployment: (app) => `${app}-web`,
    removal: () => ({ 'charts/web/templates/service.yaml': null }),
    removed: (app) => `Service/${app}-web`,
    origins: (app) => ({
      [`Deployment/${app}-web`]: 'charts/web/templates/deployment.yaml',
      [`ConfigMap/${app}-common`]: 'charts/web/charts/common-lib/templates/configmap.yaml',
      [`Widget/${app}-widget`]: 'charts/web/templates/widget.yaml',
    }),
  },
];

/** Where the layout's repository is served: git smart-HTTP, or OpenSSH with a key and known_hosts. */
interface Remote {
  name: string;
  create: (name: string) => { repo: Repo; url: string; args: string[] };
}

let sshd: Sshd;
beforeAll(async () => {
  sshd = await Sshd.start();
});
afterAll(() => sshd.close());

const remotes: Remote[] = [
  {
    name: 'https',
    create: (name) => ({ repo: suite.git().createRepo(name), url: suite.git().url(name), args: [] }),
  },
  {
    name: 'ssh',
    create: (name) => {
      const repo = sshd.createRepo(name);
      return {
        repo,
        url: sshd.url(repo.bare),
        args: ['--ssh-key', sshd.clientKey.privatePath, '--known-hosts', sshd.knownHosts()],
      };
    },
  },
];

const cases = remotes.flatMap((remote) => layouts.map((layout) => ({ ...layout, remote })));

describe.each(cases)('layout $fixture (app path $path) over $remote.name', (layout) => {
  it('syncs, stays in sync, names and heals an out-of-band change, prunes exactly a removed file', async () => {
    const suffix = Math.random().toString(36).slice(2, 8);
    const group = `l${suffix}.tether.dev`;
    const files = fixtureFiles(layout.fixture, group);
    const { repo, url, args } = layout.remote.create(`${layout.fixture}-${suffix}`);
    repo.commit(files, 'initial layout');
    const ns = await createNamespace('lay');
    suite.cleanups.push(ns.cleanup, () =>
      kubectl(['delete', 'crd', `widgets.${group}`, '--ignore-not-found']),
    );
    const app = `lay-${suffix}`;
    const audit = join(workDir, `${app}.jsonl`);
    const cmd = (verb: string, ...more: string[]) =>
      tether(
        [
          verb,
          '--repo',
          url,
          ...args,
          '--path',
          layout.path,
          '-n',
          ns.name,
          '--app',
          app,
          ...(verb === 'diff' ? [] : ['--audit-log', audit]),
          ...more,
        ],
        env,
        workDir,
      );

    const first = await cmd('sync', '--prune');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/created/);

    const drift = await cmd('drift', '-o', 'json');
    expect(drift.code, drift.stderr).toBe(0);
    const objects = (JSON.parse(drift.stdout) as { objects: DriftObject[] }).objects;
    expect(objects.length).toBeGreaterThanOrEqual(4);
    expect(objects.every((o) => o.status === 'in-sync')).toBe(true);
    const fileOf = Object.fromEntries(objects.map((o) => [`${o.kind}/${o.name}`, o.file]));
    for (const [obj, file] of Object.entries(layout.origins(app))) expect(fileOf[obj], obj).toBe(file);

    const second = await cmd('sync', '--prune');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).not.toMatch(/^(created|configured|pruned)/m);
    expect(second.stdout).toMatch(/unchanged/);

    const deploy = layout.deployment(app);
    await kubectl(['-n', ns.name, 'scale', 'deployment', deploy, '--replicas=7']);
    const drifted = await cmd('drift');
    expect(drifted.code).toBe(1);
    expect(drifted.stdout).toMatch(new RegExp(`drifted +apps/v1 Deployment ${ns.name}/${deploy}`));
    expect(drifted.stdout).toMatch(/\.spec\.replicas: desired \d+, live 7; owned by kubectl/);
    const healed = await cmd('sync', '--prune');
    expect(healed.code, healed.stderr).toBe(0);
    expect(await jsonpath(ns.name, 'deployment', deploy, '{.spec.replicas}')).not.toBe('7');

    repo.commit(layout.removal(files), 'remove one object');
    const pruned = await cmd('sync', '--prune');
    expect(pruned.code, pruned.stderr).toBe(0);
    const prunedLines = pruned.stdout.split('\n').filter((l) => /^pruned/.test(l));
    const [kind, name] = layout.removed(app).split('/');
    expect(prunedLines).toHaveLength(1);
    expect(prunedLines[0]).toMatch(new RegExp(`${kind} ${ns.name}/${name}$`));
    expect(pruned.stdout).not.toMatch(/^(created|configured)/m);
  });
});

describe('a repository mixing plain, kustomize and helm apps', () => {
  it('runs each app of one config from the same commit', async () => {
    const suffix = Math.random().toString(36).slice(2, 8);
    const group = `m${suffix}.tether.dev`;
    const files: Record<string, string> = {
      ...Object.fromEntries(
        Object.entries(fixtureFiles('overlays', group)).map(([p, c]) => [`kustomize/${p}`, c]),
      ),
      ...Object.fromEntries(Object.entries(fixtureFiles('chart', group)).map(([p, c]) => [`helm/${p}`, c])),
      'plain/config.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\ndata: {a: "1"}\n',
    };
    const repoName = `mixed-${suffix}`;
    suite.git().createRepo(repoName).commit(files, 'three apps');
    const nss = await Promise.all(['plain', 'kust', 'helm'].map((p) => createNamespace(p)));
    suite.cleanups.push(...nss.map((n) => n.cleanup), () =>
      kubectl(['delete', 'crd', `widgets.${group}`, '--ignore-not-found']),
    );
    const [plain, kust, helm] = nss.map((n) => n.name) as [string, string, string];
    const config = join(workDir, `mixed-${suffix}.yaml`);
    const url = suite.git().url(repoName);
    writeFileSync(
      config,
      `apps:
  - {name: plain, source: {repo: ${url}, path: plain}, destination: {namespace: ${plain}}}
  - {name: shop, source: {repo: ${url}, path: kustomize/deploy/overlays/prod}, destination: {namespace: ${kust}}}
  - name: web
    source: {repo: ${url}, path: helm/envs/prod}
    destination: {namespace: ${helm}}
    render: {helmValues: {image: {tag: 9.9.9}}}
`,
    );
    for (const app of ['plain', 'shop', 'web']) {
      const r = await tether(
        ['sync', '--config', config, '--app', app, '--audit-log', join(workDir, `${suffix}.jsonl`)],
        env,
        workDir,
      );
      expect(r.code, `${app}: ${r.stderr}`).toBe(0);
    }
    expect(await jsonpath(plain, 'configmap', 'plain', '{.data.a}')).toBe('1');
    expect(
      await jsonpath(kust, 'deployment', 'prod-backend', '{.spec.template.spec.containers[0].image}'),
    ).toBe('registry.example.com/backend:1.4.1');
    // releaseName from tether-render.yaml; values files in order, then the config's inline values.
    expect(await jsonpath(helm, 'deployment', 'shop-web', '{.spec.replicas}')).toBe('3');
    expect(await jsonpath(helm, 'service', 'shop-web', '{.spec.ports[0].port}')).toBe('8080');
    expect(await jsonpath(helm, 'deployment', 'shop-web', '{.spec.template.spec.containers[0].image}')).toBe(
      'registry.example.com/web:9.9.9',
    );
    // The chart was rendered for the cluster it goes to.
    const version = JSON.parse(await kubectl(['version', '-o', 'json'])) as {
      serverVersion: { gitVersion: string };
    };
    expect(await jsonpath(helm, `widgets.${group}`, 'shop-widget', '{.spec.kubeVersion}')).toBe(
      version.serverVersion.gitVersion.replace(/[-+].*$/, ''),
    );
  });
});
