/**
 * The SSA engine in scenarios a user would recognise, against the real kube-apiserver:
 * imperative edits, other server-side appliers, ignore rules, defaulting, CRDs, prune.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GitServer, type Repo } from '../support/git-server.ts';
import {
  createNamespace,
  jsonpath,
  kubectl,
  kubectlJson,
  tether,
  type CliResult,
} from '../support/cluster.ts';
import { configMap, deployment, octal, service, toYaml } from '../support/objects.ts';

interface DriftJson {
  commit: string;
  objects: {
    kind: string;
    name: string;
    namespace: string;
    status: string;
    fields: {
      path: string;
      desired: unknown;
      live: unknown;
      owners: { manager: string; operation: string; time: string | null }[];
    }[];
  }[];
}

/**
 * The Deployment of these scenarios: a quantity the server rewrites ("0.5" -> 500m), a port
 * and an octal file mode, so "no drift right after a sync" covers the server's normalisation.
 */
const webDeployment = (
  name: string,
  opts: {
    replicas?: number;
    image?: string;
    labels?: Record<string, string>;
    podLabels?: Record<string, string>;
    annotations?: Record<string, string>;
  } = {},
) =>
  deployment({
    name,
    labels: { app: name, ...opts.labels },
    annotations: opts.annotations,
    replicas: opts.replicas ?? 2,
    image: opts.image,
    podLabels: opts.podLabels,
    container: {
      ports: [{ containerPort: 8080 }],
      resources: { requests: { cpu: '0.5', memory: '1Gi' }, limits: { cpu: '1000m' } },
    },
    podSpec: { volumes: [{ name: 'cfg', configMap: { name, defaultMode: octal(0o644) } }] },
  });
const deploymentYaml = (name: string, opts: Parameters<typeof webDeployment>[1] = {}) =>
  toYaml(webDeployment(name, opts));

const configMapYaml = (name: string, value: string, annotations?: Record<string, string>) =>
  toYaml(configMap({ name, annotations, data: { key: value } }));
/** A file `<name>.yaml` per name, each a ConfigMap of that name with data.key = '1'. */
const configMapFiles = (...names: string[]) =>
  Object.fromEntries(names.map((name) => [`${name}.yaml`, configMapYaml(name, '1')]));

describe('SSA engine', () => {
  let git: GitServer;
  let repo: Repo;
  let ns: { name: string; cleanup: () => Promise<void> };
  let counter = 0;
  let path = '';

  beforeAll(async () => {
    git = await GitServer.start();
    repo = git.createRepo('ssa');
  });
  afterAll(async () => {
    repo.dispose();
    await git.close();
  });
  beforeEach(async (ctx) => {
    ns = await createNamespace('ssa');
    path = `app${++counter}`;
    ctx.onTestFinished(() => ns.cleanup());
  });

  const commit = (files: Record<string, string | null>, message = 'change') =>
    repo.commit(Object.fromEntries(Object.entries(files).map(([k, v]) => [`${path}/${k}`, v])), message);
  const args = (extra: string[] = []) => [
    '--repo',
    git.repoPath('ssa'),
    '--path',
    path,
    '-n',
    ns.name,
    '--app',
    path,
    ...extra,
  ];
  const sync = async (extra: string[] = []): Promise<CliResult> => {
    const r = await tether(['sync', ...args(extra)]);
    expect(r.stderr).not.toMatch(/^error/m);
    return r;
  };
  const drift = async (extra: string[] = []): Promise<{ code: number; json: DriftJson }> => {
    const r = await tether(['drift', ...args(extra), '-o', 'json']);
    expect(r.code, r.stderr).toBeLessThan(2);
    return { code: r.code, json: JSON.parse(r.stdout) as DriftJson };
  };
  const object = (d: DriftJson, kind: string, name: string) =>
    d.objects.find((o) => o.kind === kind && o.name === name)!;
  /** `kubectl apply --server-side` of `yaml` as field manager `manager`, taking fields others own. */
  const applyAs = (manager: string, yaml: string) =>
    kubectl(
      ['-n', ns.name, 'apply', '--server-side', `--field-manager=${manager}`, '--force-conflicts', '-f', '-'],
      yaml,
    );

  it('reports no drift right after a sync: defaults, quantities and octal modes are normalised by the server', async () => {
    commit({
      'web.yaml': deploymentYaml('web'),
      'svc.yaml': toYaml(
        service({ name: 'web', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
      ),
    });
    expect((await sync()).code).toBe(0);
    const { code, json } = await drift();
    expect(json.objects.map((o) => o.status)).toEqual(['in-sync', 'in-sync']);
    expect(code).toBe(0);
    const live = await kubectlJson<{
      spec: { template: { spec: { containers: { resources: { requests: { cpu: string } } }[] } } };
    }>(['-n', ns.name, 'get', 'deploy', 'web']);
    expect(live.spec.template.spec.containers[0]!.resources.requests.cpu).toBe('500m');
  });

  it('shows kubectl scale as drift owned by kubectl (Update), and sync reverts it', async () => {
    commit({ 'web.yaml': deploymentYaml('web') });
    await sync();
    await kubectl(['-n', ns.name, 'scale', 'deployment', 'web', '--replicas=5']);
    const { code, json } = await drift();
    expect(code).toBe(1);
    const web = object(json, 'Deployment', 'web');
    expect(web.status).toBe('drifted');
    expect(web.fields).toEqual([
      {
        path: '.spec.replicas',
        desired: 2,
        live: 5,
        owners: [expect.objectContaining({ manager: 'kubectl', operation: 'Update' })],
      },
    ]);
    const r = await sync();
    expect(r.stdout).toMatch(/configured\s+apps\/v1 Deployment/);
    const after = await drift();
    expect(after.code).toBe(0);
    expect(
      (await kubectlJson<{ spec: { replicas: number } }>(['-n', ns.name, 'get', 'deploy', 'web'])).spec
        .replicas,
    ).toBe(2);
  });

  it('ignores labels and annotations Git does not set, but reports a changed label Git sets', async () => {
    commit({ 'web.yaml': deploymentYaml('web', { labels: { tier: 'front' } }) });
    await sync();
    await kubectl(['-n', ns.name, 'label', 'deployment', 'web', 'oncall=alice']);
    await kubectl(['-n', ns.name, 'annotate', 'deployment', 'web', 'note=hand-made']);
    expect((await drift()).code).toBe(0);
    await kubectl(['-n', ns.name, 'label', 'deployment', 'web', 'tier=back', '--overwrite']);
    const { json } = await drift();
    expect(object(json, 'Deployment', 'web').fields).toEqual([
      {
        path: '.metadata.labels.tier',
        desired: 'front',
        live: 'back',
        owners: [expect.objectContaining({ manager: 'kubectl-label', operation: 'Update' })],
      },
    ]);
  });

  it('reports a field another server-side applier owns as a conflict, leaves it, and still applies the rest', async () => {
    commit({ 'web.yaml': deploymentYaml('web'), 'cm.yaml': configMapYaml('settings', 'v1') });
    await sync();
    const theirs = deploymentYaml('web', { image: 'nginx:1.28-platform' });
    await applyAs('platform-team', theirs);
    commit({ 'cm.yaml': configMapYaml('settings', 'v2') });
    const { code, json } = await drift();
    expect(code).toBe(1);
    const web = object(json, 'Deployment', 'web');
    expect(web.status).toBe('conflict');
    expect(web.fields[0]).toMatchObject({
      path: '.spec.template.spec.containers[name=main].image',
      desired: 'nginx:1.27',
      live: 'nginx:1.28-platform',
      owners: [expect.objectContaining({ manager: 'platform-team', operation: 'Apply' })],
    });
    const r = await sync();
    // 3: applied what it could, and left a conflict unresolved.
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/conflict\s+apps\/v1 Deployment \S+\/web .*platform-team/);
    expect(r.stdout).toMatch(/configured\s+v1 ConfigMap \S+\/settings/);
    const image = await jsonpath(ns.name, 'deploy', 'web', '{.spec.template.spec.containers[0].image}');
    expect(image).toBe('nginx:1.28-platform');
    const cm = await jsonpath(ns.name, 'cm', 'settings', '{.data.key}');
    expect(cm).toBe('v2');
  });

  it('takes a conflicting field over with conflict policy force, and says so', async () => {
    commit({ 'web.yaml': deploymentYaml('web') });
    await sync();
    await applyAs('platform-team', deploymentYaml('web', { image: 'nginx:1.28-platform' }));
    const r = await sync(['--force']);
    expect(r.stdout).toMatch(
      /configured\s+apps\/v1 Deployment \S+\/web .*took over 1 field\(s\) from platform-team/,
    );
    const image = await jsonpath(ns.name, 'deploy', 'web', '{.spec.template.spec.containers[0].image}');
    expect(image).toBe('nginx:1.27');
    expect((await drift()).code).toBe(0);
  });

  it('with an ignore rule, never reports nor overwrites replicas an autoscaler-style manager owns', async () => {
    commit({ 'web.yaml': deploymentYaml('web') });
    await sync();
    await kubectl([
      '-n',
      ns.name,
      'patch',
      'deployment',
      'web',
      '--subresource=scale',
      '--field-manager=hpa-controller',
      '--type=merge',
      '-p',
      '{"spec":{"replicas":4}}',
    ]);
    expect((await drift()).code).toBe(1);
    expect((await drift(['--ignore-manager', 'hpa-controller'])).code).toBe(0);
    const r = await sync(['--ignore-manager', 'hpa-controller']);
    expect(r.code).toBe(0);
    const replicas = async () =>
      (await kubectlJson<{ spec: { replicas: number } }>(['-n', ns.name, 'get', 'deploy', 'web'])).spec
        .replicas;
    expect(await replicas()).toBe(4);
    // Tether gave the field up, so another sync does not fight either.
    await sync(['--ignore-field', '.spec.replicas']);
    expect(await replicas()).toBe(4);
  });

  it('applies a CRD and a custom resource of it in one sync, keeping x-kubernetes-* schema keys', async () => {
    const group = `${path}.tether.test`;
    commit({
      'crd.yaml': `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.${group}}
spec:
  group: ${group}
  scope: Namespaced
  names: {kind: Gadget, plural: gadgets}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              x-kubernetes-preserve-unknown-fields: true
              properties:
                size: {x-kubernetes-int-or-string: true}
                tags: {type: array, x-kubernetes-list-type: set, items: {type: string}}
`,
      'gadget.yaml': `apiVersion: ${group}/v1\nkind: Gadget\nmetadata: {name: g1}\nspec: {size: 3, tags: [a, b], extra: {free: form}}\n`,
    });
    const r = await sync();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/created\s+apiextensions.k8s.io\/v1 CustomResourceDefinition/);
    expect(r.stdout).toMatch(new RegExp(`created\\s+${group.replaceAll('.', '\\.')}/v1 Gadget`));
    const crd = await kubectlJson<{
      spec: {
        versions: { schema: { openAPIV3Schema: { properties: { spec: Record<string, unknown> } } } }[];
      };
    }>(['get', 'crd', `gadgets.${group}`]);
    const spec = crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec;
    expect(spec['x-kubernetes-preserve-unknown-fields']).toBe(true);
    expect(
      (spec.properties as Record<string, Record<string, unknown>>).size!['x-kubernetes-int-or-string'],
    ).toBe(true);
    expect((await drift()).code).toBe(0);
    await kubectl(['delete', 'crd', `gadgets.${group}`, '--wait=false']);
  });

  it('prunes exactly the objects of a deleted file, and nothing Tether never applied', async () => {
    commit(configMapFiles('a', 'b', 'c'));
    await sync(['--prune']);
    await kubectl(['-n', ns.name, 'create', 'configmap', 'hand-made', '--from-literal=x=y']);
    commit({ 'c.yaml': null });
    const r = await sync(['--prune']);
    expect(r.stdout).toMatch(/pruned\s+v1 ConfigMap \S+\/c/);
    const names = await kubectl(['-n', ns.name, 'get', 'cm', '-o', 'name']);
    expect(names).toContain('configmap/a');
    expect(names).toContain('configmap/b');
    expect(names).not.toContain('configmap/c\n');
    expect(names).toContain('configmap/hand-made');
  });

  it('reports an object removed from Git as orphaned when prune is off', async () => {
    commit(configMapFiles('a', 'b'));
    await sync();
    commit({ 'b.yaml': null });
    await sync();
    const { code, json } = await drift();
    expect(code).toBe(1);
    expect(object(json, 'ConfigMap', 'b').status).toBe('orphaned');
  });

  it('writes and prunes nothing when a commit has a broken file or a failing dry-run', async () => {
    commit(configMapFiles('a', 'b'));
    await sync(['--prune']);
    commit({ 'b.yaml': null, 'a.yaml': configMapYaml('a', '2'), 'broken.yaml': 'kind: [unclosed\n' });
    let r = await tether(['sync', ...args(['--prune'])]);
    expect(r.code).not.toBe(0);
    const bad = webDeployment('bad');
    commit({ 'broken.yaml': toYaml({ ...bad, spec: { ...bad.spec, replicas: 'many' } }) });
    r = await tether(['sync', ...args(['--prune'])]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/broken\.yaml:1:1.*replicas/);
    const names = await kubectl(['-n', ns.name, 'get', 'cm', '-o', 'name']);
    expect(names).toContain('configmap/b');
    expect(await jsonpath(ns.name, 'cm', 'a', '{.data.key}')).toBe('1');
  });

  it('refuses to prune more than half of the app unless allowed', async () => {
    commit(configMapFiles('a', 'b', 'c'));
    await sync(['--prune']);
    commit({ 'b.yaml': null, 'c.yaml': null });
    const refused = await tether(['sync', ...args(['--prune'])]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/prune guard: .*2 of its 3 objects/);
    expect(await kubectl(['-n', ns.name, 'get', 'cm', '-o', 'name'])).toContain('configmap/c');
    const allowed = await sync(['--prune', '--allow-mass-prune']);
    expect(allowed.stdout).toMatch(/pruned\s+v1 ConfigMap \S+\/b/);
    expect(allowed.stdout).toMatch(/pruned\s+v1 ConfigMap \S+\/c/);
  });

  it('keeps an object annotated tether.dev/prune: "false" when its file is deleted', async () => {
    commit({
      'a.yaml': configMapYaml('a', '1'),
      'keep.yaml': configMapYaml('keep', '1', { 'tether.dev/prune': 'false' }),
      'c.yaml': configMapYaml('c', '1'),
    });
    await sync(['--prune']);
    commit({ 'keep.yaml': null });
    const r = await sync(['--prune']);
    expect(r.stdout).toMatch(/skipped\s+v1 ConfigMap \S+\/keep/);
    expect(await kubectl(['-n', ns.name, 'get', 'cm', '-o', 'name'])).toContain('configmap/keep');
  });

  it('reports an immutable-field change clearly, and recreates only when allowed', async () => {
    commit({ 'web.yaml': deploymentYaml('web') });
    await sync();
    const changed = { labels: { app: 'web2' }, podLabels: { app: 'web2' } };
    commit({ 'web.yaml': deploymentYaml('web', changed) });
    const refused = await tether(['sync', ...args()]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/web\.yaml:1:1: .*immutable.*tether\.dev\/recreate/);
    const uid = await jsonpath(ns.name, 'deploy', 'web', '{.metadata.uid}');
    commit({
      'web.yaml': deploymentYaml('web', { ...changed, annotations: { 'tether.dev/recreate': 'true' } }),
    });
    const r = await sync();
    expect(r.stdout).toMatch(/configured\s+apps\/v1 Deployment \S+\/web .*recreated/);
    const after = await jsonpath(
      ns.name,
      'deploy',
      'web',
      '{.metadata.uid} {.spec.selector.matchLabels.app}',
    );
    expect(after).not.toContain(uid);
    expect(after).toContain('web2');
  });

  it('respects tether.dev/apply: create-only and ignore', async () => {
    commit({
      'once.yaml': configMapYaml('once', '1', { 'tether.dev/apply': 'create-only' }),
      'never.yaml': configMapYaml('never', '1', { 'tether.dev/apply': 'ignore' }),
    });
    let r = await sync();
    expect(r.stdout).toMatch(/created\s+v1 ConfigMap \S+\/once/);
    expect(r.stdout).toMatch(/skipped\s+v1 ConfigMap \S+\/never/);
    await kubectl(['-n', ns.name, 'patch', 'cm', 'once', '--type=merge', '-p', '{"data":{"key":"by-hand"}}']);
    r = await sync();
    expect(r.stdout).toMatch(/skipped\s+v1 ConfigMap \S+\/once .*create-only/);
    expect(await jsonpath(ns.name, 'cm', 'once', '{.data.key}')).toBe('by-hand');
    expect(await kubectl(['-n', ns.name, 'get', 'cm', '-o', 'name'])).not.toContain('configmap/never');
  });
});
