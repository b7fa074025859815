/**
 * charts/tether against real parts: helm built from the Go module proxy lints and renders
 * the chart, the rendered objects are applied to the real kube-apiserver (server-side dry-run,
 * then for real), and Tether runs with a token of the chart's ServiceAccount (TokenRequest
 * API, no admin rights): the app syncs, and the API server refuses what the RBAC does not
 * grant, which Tether reports as one clear error.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { parseConfig } from '../../src/config/index.ts';
import { ensureHelm } from '../../tools/controlplane/build.ts';
import { createNamespace, kubeconfig, kubectl, kubectlJson, repoRoot, tether } from '../support/cluster.ts';
import { GitServer, type Repo } from '../support/git-server.ts';

const chartDir = join(repoRoot, 'charts', 'tether');
const crdFile = join(chartDir, 'crds', 'apps.tether.dev.yaml');
const fixtures = join(repoRoot, 'test', 'integration', 'chart');
const creds = { username: 'tether-bot', password: 'chart-Pa55word' };

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

interface RoleObject extends K8sObject {
  rules: PolicyRule[];
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let helmBin = '';
let work = '';

function run(cmd: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      if (err && typeof err.code !== 'number') reject(new Error(`${cmd}: ${err.message}`, { cause: err }));
      else resolve({ code, stdout, stderr });
    });
    child.stdin?.end(input ?? '');
  });
}

function helm(args: string[]): Promise<Run> {
  return run(helmBin, args);
}

function valuesFile(values: unknown): string {
  const file = join(work, `values-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(values));
  return file;
}

/** `helm template` with values (objects become files), returning the text and the objects. */
async function render(
  values: unknown[],
  namespace = 'tether-system',
): Promise<{ text: string; objects: K8sObject[]; result: Run }> {
  const files = values.flatMap((v) => ['-f', typeof v === 'string' ? v : valuesFile(v)]);
  const result = await helm(['template', 'tether', chartDir, '-n', namespace, ...files]);
  const objects = result.code
    ? []
    : parseAllDocuments(result.stdout)
        .map((d) => d.toJS() as K8sObject | null)
        .filter((o): o is K8sObject => o !== null);
  return { text: result.stdout, objects, result };
}

async function renderOk(
  values: unknown[],
  namespace?: string,
): Promise<{ text: string; objects: K8sObject[] }> {
  const r = await render(values, namespace);
  expect(r.result.code, r.result.stderr).toBe(0);
  return r;
}

function find<T extends K8sObject = K8sObject>(
  objects: K8sObject[],
  kind: string,
  name?: string,
  namespace?: string,
): T {
  const o = objects.find(
    (x) =>
      x.kind === kind &&
      (name === undefined || x.metadata.name === name) &&
      (namespace === undefined || x.metadata.namespace === namespace),
  );
  if (!o) throw new Error(`no ${kind} ${namespace ?? ''}/${name ?? ''} in the render`);
  return o as T;
}

function ofKind<T extends K8sObject = K8sObject>(objects: K8sObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as T[];
}

function app(name: string, namespace: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    source: { repo: 'https://git.example.com/org/deploy.git', path: `apps/${name}` },
    destination: { namespace },
    ...extra,
  };
}

interface PodSpec {
  securityContext: Record<string, unknown>;
  containers: {
    args: string[];
    securityContext: Record<string, unknown>;
    resources: { requests?: Record<string, string>; limits?: Record<string, string> };
    livenessProbe: { httpGet: { path: string; port: string } };
    readinessProbe: { httpGet: { path: string; port: string } };
    volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  }[];
  volumes: {
    name: string;
    projected?: { sources: { secret?: { name: string; items: { key: string; path: string }[] } }[] };
    persistentVolumeClaim?: { claimName: string };
  }[];
}

function podSpec(objects: K8sObject[]): PodSpec {
  const d = find<K8sObject & { spec: { template: { spec: PodSpec } } }>(objects, 'Deployment');
  return d.spec.template.spec;
}

function configOf(objects: K8sObject[]): string {
  const cm = find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap');
  const text = cm.data['tether.yaml'];
  if (!text) throw new Error('the ConfigMap has no tether.yaml');
  return text;
}

/** A kubeconfig for the ServiceAccount: the admin kubeconfig's server and CA, and a token. */
async function serviceAccountKubeconfig(namespace: string, sa: string): Promise<string> {
  const admin = JSON.parse(
    await kubectl(['config', 'view', '--raw', '--minify', '--flatten', '-o', 'json']),
  ) as { clusters: { cluster: Record<string, string> }[] };
  const cluster = admin.clusters[0]?.cluster;
  if (!cluster) throw new Error('the admin kubeconfig has no cluster');
  const token = (await kubectl(['create', 'token', sa, '-n', namespace, '--duration=1h'])).trim();
  const file = join(work, `${sa}-${namespace}.kubeconfig`);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'cluster',
          cluster: {
            server: cluster.server,
            'certificate-authority-data': cluster['certificate-authority-data'],
          },
        },
      ],
      users: [{ name: sa, user: { token } }],
      contexts: [{ name: sa, context: { cluster: 'cluster', user: sa, namespace } }],
      'current-context': sa,
    }),
  );
  return file;
}

/** kubectl as the given kubeconfig, never throwing. */
function kubectlAs(file: string, args: string[], input?: string): Promise<Run> {
  return run('kubectl', ['--kubeconfig', file, ...args], input);
}

function allVerbsResources(roles: RoleObject[]): string[] {
  return roles.flatMap((r) =>
    r.rules.flatMap((rule) => [...rule.verbs, ...rule.resources, ...rule.apiGroups]),
  );
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tether-chart-'));
  helmBin = await ensureHelm();
}, 1_800_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('charts/tether rendered by helm', () => {
  it('is helm built from the Go module proxy at the pinned version', async () => {
    const r = await helm(['version', '--template', '{{.Version}}']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^v4\.\d+\.\d+$/);
  });

  it('passes helm lint --strict with every optional part switched on, and with the example values', async () => {
    const full = await helm(['lint', '--strict', chartDir, '-f', join(fixtures, 'values-full.yaml')]);
    expect(full.code, full.stdout + full.stderr).toBe(0);
    expect(full.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    const plain = await helm([
      'lint',
      '--strict',
      chartDir,
      '-f',
      join(chartDir, 'ci', 'example-values.yaml'),
    ]);
    expect(plain.code, plain.stdout + plain.stderr).toBe(0);
  });

  it('grants the default kinds only in the app namespaces, with no ClusterRole and no wildcard', async () => {
    const { objects } = await renderOk([
      {
        appResources: { enabled: false },
        apps: [app('shop', 'shop', { destination: { namespace: 'shop', allowedNamespaces: ['shop-jobs'] } })],
      },
    ]);
    const roles = ofKind<RoleObject>(objects, 'Role');
    expect(roles.map((r) => `${r.metadata.namespace}/${r.metadata.name}`).sort()).toEqual([
      'shop-jobs/tether-app-shop',
      'shop/tether-app-shop',
      'tether-system/tether-leader-election',
    ]);
    expect(ofKind(objects, 'ClusterRole')).toEqual([]);
    expect(ofKind(objects, 'ClusterRoleBinding')).toEqual([]);
    expect(allVerbsResources(roles)).not.toContain('*');

    const shop = find<RoleObject>(objects, 'Role', 'tether-app-shop', 'shop');
    const granted = new Set(
      shop.rules
        .filter((r) => !r.resourceNames)
        .flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((res) => `${res}.${g}`))),
    );
    const expected = [
      'configmaps.',
      'secrets.',
      'services.',
      'serviceaccounts.',
      'persistentvolumeclaims.',
      'deployments.apps',
      'statefulsets.apps',
      'daemonsets.apps',
      'jobs.batch',
      'cronjobs.batch',
      'ingresses.networking.k8s.io',
      'networkpolicies.networking.k8s.io',
      'roles.rbac.authorization.k8s.io',
      'rolebindings.rbac.authorization.k8s.io',
      'horizontalpodautoscalers.autoscaling',
      'poddisruptionbudgets.policy',
    ];
    expect([...granted].sort()).toEqual(expected.sort());
    const kindRules = shop.rules.filter(
      (r) => !r.resourceNames && !(r.verbs.length === 1 && r.verbs[0] === 'create'),
    );
    for (const r of kindRules) expect(r.verbs).toEqual(['get', 'list', 'watch', 'create', 'patch', 'delete']);
    // The inventory ConfigMap, by name, only in the destination namespace.
    expect(shop.rules).toContainEqual({
      apiGroups: [''],
      resources: ['configmaps'],
      resourceNames: ['tether-inventory-shop'],
      verbs: ['get', 'patch'],
    });
    const jobs = find<RoleObject>(objects, 'Role', 'tether-app-shop', 'shop-jobs');
    expect(jobs.rules.some((r) => r.resourceNames?.includes('tether-inventory-shop'))).toBe(false);

    for (const rb of ofKind<K8sObject & { subjects: unknown[]; roleRef: { name: string } }>(
      objects,
      'RoleBinding',
    )) {
      expect(rb.subjects).toEqual([{ kind: 'ServiceAccount', name: 'tether', namespace: 'tether-system' }]);
      expect(rb.roleRef.name).toBe(rb.metadata.name);
    }
  });

  it('adds a ClusterRole only for the cluster-scoped kinds listed, and per-app custom resources to that app only', async () => {
    const { objects } = await renderOk([join(fixtures, 'values-full.yaml')]);
    const cr = find<RoleObject>(objects, 'ClusterRole', 'tether-system-tether');
    expect(cr.rules).toEqual([
      {
        apiGroups: [''],
        resources: ['namespaces'],
        resourceNames: ['shop', 'shop-jobs', 'billing'],
        verbs: ['get', 'list', 'watch', 'patch'],
      },
    ]);
    const crb = find<K8sObject & { subjects: unknown[] }>(
      objects,
      'ClusterRoleBinding',
      'tether-system-tether',
    );
    expect(crb.subjects).toEqual([{ kind: 'ServiceAccount', name: 'tether', namespace: 'tether-system' }]);
    const backups = (r: RoleObject) => r.rules.some((rule) => rule.resources.includes('backups'));
    expect(backups(find<RoleObject>(objects, 'Role', 'tether-app-shop', 'shop'))).toBe(true);
    expect(backups(find<RoleObject>(objects, 'Role', 'tether-app-shop', 'shop-jobs'))).toBe(true);
    expect(backups(find<RoleObject>(objects, 'Role', 'tether-app-billing', 'billing'))).toBe(false);
  });

  it('renders replicas 2 with leader election: Lease get/update by name and create, in the release namespace only', async () => {
    const { objects } = await renderOk(
      [
        {
          replicaCount: 2,
          leaderElection: { enabled: true },
          // Two replicas share the audit log: a ReadWriteMany volume (the default RWO is refused).
          persistence: { accessModes: ['ReadWriteMany'] },
          apps: [app('shop', 'shop')],
        },
      ],
      'gitops',
    );
    const d = find<K8sObject & { spec: { replicas: number; strategy: { type: string } } }>(
      objects,
      'Deployment',
    );
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.strategy.type).toBe('RollingUpdate');
    const lease = find<RoleObject>(objects, 'Role', 'tether-leader-election', 'gitops');
    expect(lease.rules).toEqual([
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: ['tether'],
        verbs: ['get', 'update'],
      },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    ]);
    const config = parse(configOf(objects)) as { leaderElection: Record<string, unknown> };
    expect(config.leaderElection).toEqual({
      enabled: true,
      namespace: 'gitops',
      leaseName: 'tether',
      leaseDurationSeconds: 15,
    });
    const leases = ofKind<RoleObject>(objects, 'Role').filter((r) =>
      r.rules.some((x) => x.resources.includes('leases')),
    );
    expect(leases.map((r) => r.metadata.namespace)).toEqual(['gitops']);

    const off = await renderOk([{ leaderElection: { enabled: false }, apps: [app('shop', 'shop')] }]);
    expect(ofKind<RoleObject>(off.objects, 'Role').map((r) => r.metadata.name)).toEqual(['tether-app-shop']);
  });

  it('renders the agent config that Tether itself accepts, with Secret files instead of secrets', async () => {
    const { text, objects } = await renderOk([join(fixtures, 'values-full.yaml')]);
    const yamlText = configOf(objects);
    const config = parseConfig(yamlText, '/etc/tether/tether.yaml');
    expect(config.listen).toBe('0.0.0.0:9090');
    expect(config.auditLog).toBe('/var/lib/tether/audit.jsonl');
    expect(config.logLevel).toBe('debug');
    expect(config.webhooks).toEqual([
      { name: 'github', type: 'github', secretFile: '/etc/tether/secrets/webhooks/github/secret' },
      { name: 'generic', type: 'generic', secretFile: '/etc/tether/secrets/webhooks/generic/secret' },
    ]);
    expect(config.ui).toEqual({
      enabled: true,
      auth: {
        bearerTokenFile: '/etc/tether/secrets/ui/token',
        basicAuthFile: '/etc/tether/secrets/ui/users',
      },
    });
    const [shop, billing] = config.apps;
    expect(shop?.source).toMatchObject({
      repo: 'https://git.example.com/org/deploy.git',
      ref: 'main',
      path: 'apps/shop',
      intervalMs: 30_000,
      exclude: ['**/*.md'],
      usernameFile: '/etc/tether/secrets/apps/shop/username',
      passwordFile: '/etc/tether/secrets/apps/shop/password',
      caFile: '/etc/tether/secrets/apps/shop/ca.crt',
      verify: { mode: 'required', pgpKeysFile: '/etc/tether/secrets/apps/shop/pgp-keys' },
    });
    expect(shop?.destination).toMatchObject({ namespace: 'shop', allowedNamespaces: ['shop', 'shop-jobs'] });
    expect(shop?.sync).toEqual({
      mode: 'apply',
      prune: true,
      conflicts: 'report',
      pruneGuard: true,
      suspend: false,
      ignore: [
        { managers: ['horizontal-pod-autoscaler'] },
        { paths: ['.spec.replicas'], kinds: ['Deployment'] },
      ],
      waveTimeoutMs: 300_000,
    });
    // `mode: off` unquoted in values is YAML 1.1 false; the chart writes the string "off".
    expect(billing?.source.verify).toEqual({ mode: 'off' });
    // An ssh source: the key and known_hosts of its Secret, mounted as files.
    expect(billing?.source).toMatchObject({
      repo: 'git@git.example.com:org/deploy.git',
      sshKeyFile: '/etc/tether/secrets/apps/billing/ssh-key',
      knownHostsFile: '/etc/tether/secrets/apps/billing/known_hosts',
    });
    expect(billing?.sync.mode).toBe('report');
    // Renderer permissions pass through as written; unset, they stay off.
    expect(billing?.render).toEqual({
      allowCommands: false,
      allowRemoteBases: true,
      helmValues: { replicaCount: 2, image: { tag: 'v2' } },
    });
    expect(shop?.render).toEqual({ allowCommands: false, allowRemoteBases: false });
    // A notifier's secret becomes the file its type reads (tokenFile, secretFile, urlFile).
    expect(shop?.notifications).toEqual([
      {
        type: 'github',
        name: 'github',
        events: ['applied', 'healthy', 'degraded', 'drift', 'failed'],
        apiUrl: 'https://api.github.com',
        repository: 'org/deploy',
        tokenFile: '/etc/tether/secrets/apps/shop/notify-0',
      },
      {
        type: 'webhook',
        name: 'webhook',
        url: 'https://hooks.example.com/tether',
        events: ['failed'],
        secretFile: '/etc/tether/secrets/apps/shop/notify-1',
      },
    ]);
    // Chart-only keys never reach the agent, and no Secret object is rendered.
    expect(yamlText).not.toMatch(/credentialsSecret|caSecret|sshSecret|KeysSecret|rbac|serviceAccounts/);
    expect(ofKind(objects, 'Secret')).toEqual([]);
    expect(text).not.toContain('kind: Secret\n');

    // Each referenced Secret key is projected to the file the config names.
    const config0 = podSpec(objects).volumes.find((v) => v.name === 'config');
    const items = (config0?.projected?.sources ?? []).flatMap((s) =>
      (s.secret?.items ?? []).map((i) => `${s.secret?.name}:${i.key} -> /etc/tether/${i.path}`),
    );
    expect(items.sort()).toEqual(
      [
        'deploy-repo:user -> /etc/tether/secrets/apps/shop/username',
        'deploy-repo:token -> /etc/tether/secrets/apps/shop/password',
        'git-ca:ca.crt -> /etc/tether/secrets/apps/shop/ca.crt',
        'signers:pgp.asc -> /etc/tether/secrets/apps/shop/pgp-keys',
        'deploy-key:identity -> /etc/tether/secrets/apps/billing/ssh-key',
        'deploy-key:known_hosts -> /etc/tether/secrets/apps/billing/known_hosts',
        'tether-notify:gh -> /etc/tether/secrets/apps/shop/notify-0',
        'tether-notify:secret -> /etc/tether/secrets/apps/shop/notify-1',
        'tether-webhooks:github -> /etc/tether/secrets/webhooks/github/secret',
        'tether-webhooks:secret -> /etc/tether/secrets/webhooks/generic/secret',
        'tether-ui:token -> /etc/tether/secrets/ui/token',
        'tether-ui:people -> /etc/tether/secrets/ui/users',
      ].sort(),
    );
  });

  it('renders a hardened pod with probes, resources and writable paths only where the agent writes', async () => {
    const { objects } = await renderOk([{ apps: [app('shop', 'shop')] }]);
    const spec = podSpec(objects);
    expect(spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const [c] = spec.containers;
    if (!c) throw new Error('no container');
    expect(c.args).toEqual(['agent', '--config', '/etc/tether/tether.yaml']);
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(Object.keys(c.resources.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
    expect(Object.keys(c.resources.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
    expect(c.volumeMounts.map((m) => `${m.mountPath}${m.readOnly ? ' (ro)' : ''}`).sort()).toEqual([
      '/etc/tether (ro)',
      '/tmp',
      '/var/cache/tether',
      '/var/lib/tether',
    ]);
    // By default the audit log is on a claim of its own (ReadWriteOnce, so Recreate), and there
    // is no monitor or ingress.
    const pvc = find<K8sObject & { spec: Record<string, unknown> }>(objects, 'PersistentVolumeClaim');
    expect(pvc.spec).toMatchObject({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '1Gi' } },
    });
    expect(spec.volumes.find((v) => v.name === 'audit')?.persistentVolumeClaim).toEqual({
      claimName: pvc.metadata.name,
    });
    expect(
      find<K8sObject & { spec: { strategy: { type: string } } }>(objects, 'Deployment').spec.strategy.type,
    ).toBe('Recreate');
    for (const kind of ['ServiceMonitor', 'Ingress']) expect(ofKind(objects, kind)).toEqual([]);
    // Without persistence it is an emptyDir.
    const ephemeral = await renderOk([{ persistence: { enabled: false }, apps: [app('shop', 'shop')] }]);
    expect(podSpec(ephemeral.objects).volumes.find((v) => v.name === 'audit')).toEqual({
      name: 'audit',
      emptyDir: {},
    });
    expect(ofKind(ephemeral.objects, 'PersistentVolumeClaim')).toEqual([]);
    const svc = find<K8sObject & { spec: { ports: unknown[] } }>(objects, 'Service');
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 9090, targetPort: 'http', protocol: 'TCP' }]);
  });

  it('renders the optional PVC, ServiceMonitor and an Ingress for the webhooks and the status page', async () => {
    const { objects } = await renderOk([join(fixtures, 'values-full.yaml')]);
    const pvc = find<K8sObject & { spec: Record<string, unknown> }>(objects, 'PersistentVolumeClaim');
    expect(pvc.spec).toMatchObject({
      accessModes: ['ReadWriteMany'],
      resources: { requests: { storage: '2Gi' } },
    });
    expect(podSpec(objects).volumes.find((v) => v.name === 'audit')?.persistentVolumeClaim).toEqual({
      claimName: pvc.metadata.name,
    });
    const sm = find<K8sObject & { spec: { endpoints: unknown[] } }>(objects, 'ServiceMonitor');
    expect(sm.metadata.labels).toMatchObject({ release: 'prometheus' });
    expect(sm.spec.endpoints).toEqual([
      { port: 'http', path: '/metrics', interval: '30s', scrapeTimeout: '10s' },
    ]);
    const ing = find<K8sObject & { spec: { rules: { http: { paths: { path: string }[] } }[] } }>(
      objects,
      'Ingress',
    );
    // The status page (behind ui.auth) besides the webhooks; never /metrics, /status or /audit.
    expect(ing.spec.rules.flatMap((r) => r.http.paths.map((p) => p.path))).toEqual([
      '/webhook/',
      '/',
      '/assets/',
      '/api/',
    ]);
    const webhooksOnly = await renderOk([join(fixtures, 'values-full.yaml'), { ingress: { ui: false } }]);
    expect(
      find<K8sObject & { spec: { rules: { http: { paths: { path: string }[] } }[] } }>(
        webhooksOnly.objects,
        'Ingress',
      ).spec.rules.flatMap((r) => r.http.paths.map((p) => p.path)),
    ).toEqual(['/webhook/']);
    const off = await renderOk([{ ui: { enabled: false }, apps: [app('shop', 'shop')] }]);
    expect(parseConfig(configOf(off.objects), '/etc/tether/tether.yaml').ui).toEqual({ enabled: false });

    // A ReadWriteOnce volume cannot be mounted by two pods of a rolling update on two nodes.
    const rwo = await renderOk([{ persistence: { enabled: true }, apps: [app('shop', 'shop')] }]);
    const d = find<K8sObject & { spec: { strategy: { type: string } } }>(rwo.objects, 'Deployment');
    expect(d.spec.strategy.type).toBe('Recreate');
  });

  it.each([
    {
      what: 'an unknown sync mode',
      values: { apps: [app('shop', 'shop', { sync: { mode: 'sync' } })] },
      message: /apps\/0\/sync\/mode.*(apply|report)/s,
    },
    {
      what: 'a misspelled key',
      values: { apps: [app('shop', 'shop')], replicas: 2 },
      message: /at '': additional properties 'replicas' not allowed/,
    },
    {
      what: 'no apps without App resources',
      values: { appResources: { enabled: false } },
      message: /apps: set at least one app to sync .*or appResources\.enabled=true/,
    },
    {
      what: 'ServiceAccounts to impersonate without App resources',
      values: {
        appResources: { enabled: false, serviceAccounts: [{ namespace: 'team-a', name: 'deployer' }] },
        apps: [app('shop', 'shop')],
      },
      message: /appResources\.serviceAccounts is set but appResources\.enabled is false/,
    },
    {
      what: 'a ServiceAccount without a namespace',
      values: { appResources: { serviceAccounts: [{ name: 'deployer' }] } },
      message: /at '\/appResources\/serviceAccounts\/0': missing property 'namespace'/,
    },
    {
      what: 'an app without a destination namespace',
      values: { apps: [{ name: 'shop', source: { repo: 'https://git.example.com/x.git' } }] },
      message: /at '\/apps\/0': missing property 'destination'/,
    },
    {
      what: 'a credential file path instead of a Secret reference',
      values: { apps: [app('shop', 'shop', { source: { repo: 'https://h/x.git', passwordFile: '/p' } })] },
      message: /at '\/apps\/0\/source': additional properties 'passwordFile' not allowed/,
    },
    {
      what: 'a bad interval',
      values: { apps: [app('shop', 'shop', { source: { repo: 'https://h/x.git', interval: '30' } })] },
      message: /apps\/0\/source\/interval/,
    },
    {
      what: 'two replicas without leader election',
      values: { replicaCount: 2, leaderElection: { enabled: false }, apps: [app('shop', 'shop')] },
      message: /replicaCount is 2 but leaderElection\.enabled is false/,
    },
    {
      what: 'two replicas sharing a ReadWriteOnce audit-log volume',
      values: { replicaCount: 2, persistence: { enabled: true }, apps: [app('shop', 'shop')] },
      message: /ReadWriteOnce audit-log volume cannot be mounted by pods on different nodes/,
    },
    {
      what: 'an existing ServiceAccount without a name',
      values: { serviceAccount: { create: false }, apps: [app('shop', 'shop')] },
      message: /serviceAccount\.name is required when serviceAccount\.create is false/,
    },
    {
      what: 'a password in the repository URL',
      values: {
        apps: [app('shop', 'shop', { source: { repo: 'https://bot:hunter2@git.example.com/x.git' } })],
      },
      message: /apps\[0\]\.source\.repo \(app "shop"\) has a password in the URL.*credentialsSecret/,
    },
    {
      what: 'a wildcard verb',
      values: {
        apps: [app('shop', 'shop')],
        rbac: { clusterResources: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['*'] }] },
      },
      message: /"\*" in verbs .*rbac\.allowWildcards/,
    },
    {
      what: 'a wildcard resource',
      values: {
        apps: [app('shop', 'shop', { rbac: { resources: [{ apiGroups: ['apps'], resources: ['*'] }] } })],
      },
      message: /"\*" in resources .*rbac\.allowWildcards/,
    },
    {
      what: 'the status page on the Ingress without credentials',
      values: {
        apps: [app('shop', 'shop')],
        ingress: { enabled: true, ui: true, hosts: [{ host: 'tether.example.com' }] },
      },
      message:
        /ingress\.ui exposes the status page .* set ui\.auth\.bearerTokenSecret or ui\.auth\.basicAuthSecret/,
    },
    {
      what: 'two apps with one name',
      values: { apps: [app('shop', 'shop'), app('shop', 'other')] },
      message: /apps\[1\]\.name "shop" is used twice/,
    },
  ])('refuses $what with a message naming the value', async ({ values, message }) => {
    const r = await render([values]);
    expect(r.result.code).not.toBe(0);
    expect(r.result.stderr).toMatch(message);
    expect(r.result.stderr.split('\n').length).toBeLessThan(15);
  });

  it("renders with the chart's default values (apps come from App resources), and without App resources needs apps, even without the schema", async () => {
    const defaults = await renderOk([]);
    expect(parse(configOf(defaults.objects))).toMatchObject({ appResources: { enabled: true }, apps: [] });
    // The agent refuses a config with nothing to sync, so an install without either cannot work.
    const off = valuesFile({ appResources: { enabled: false } });
    const r = await helm(['template', 'tether', chartDir, '-f', off]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /apps: set at least one app to sync \(name, source\.repo, destination\.namespace/,
    );
    expect(r.stderr.split('\n').length).toBeLessThan(10);
    // Skipping the schema reaches the chart's own check, which says the same.
    const skipped = await helm(['template', 'tether', chartDir, '-f', off, '--skip-schema-validation']);
    expect(skipped.code).not.toBe(0);
    expect(skipped.stderr).toMatch(
      /apps is empty and appResources\.enabled is false: set apps to at least one app/,
    );
    expect(skipped.stdout).toBe('');
    // One app is enough to render.
    await renderOk([{ appResources: { enabled: false }, apps: [app('shop', 'shop')] }]);
  });

  it('grants Apps cluster-wide, and impersonation of exactly the listed ServiceAccounts in their namespaces', async () => {
    const { objects } = await renderOk([join(fixtures, 'values-full.yaml')]);
    const cr = find<RoleObject>(objects, 'ClusterRole', 'tether-system-tether-app-resources');
    expect(cr.rules).toEqual([
      { apiGroups: ['tether.dev'], resources: ['apps'], verbs: ['get', 'list', 'watch', 'patch', 'update'] },
      { apiGroups: ['tether.dev'], resources: ['apps/status'], verbs: ['patch', 'update'] },
      { apiGroups: ['tether.dev'], resources: ['apps/finalizers'], verbs: ['update'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
    ]);
    const crb = find<K8sObject & { subjects: unknown[]; roleRef: unknown }>(
      objects,
      'ClusterRoleBinding',
      'tether-system-tether-app-resources',
    );
    expect(crb.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'tether-system-tether-app-resources',
    });
    expect(crb.subjects).toEqual([{ kind: 'ServiceAccount', name: 'tether', namespace: 'tether-system' }]);

    // One Role per namespace of the list, naming exactly its ServiceAccounts.
    const impersonating = [
      ...ofKind<RoleObject>(objects, 'Role'),
      ...ofKind<RoleObject>(objects, 'ClusterRole'),
    ]
      .filter((r) => r.rules.some((rule) => rule.verbs.includes('impersonate')))
      .map((r) => ({ at: `${r.metadata.namespace ?? ''}/${r.metadata.name}`, rules: r.rules }));
    const rule = (names: string[]) => [
      { apiGroups: [''], resources: ['serviceaccounts'], resourceNames: names, verbs: ['impersonate'] },
    ];
    expect(impersonating).toEqual([
      { at: 'billing/tether-impersonate', rules: rule(['deployer']) },
      { at: 'shop/tether-impersonate', rules: rule(['deployer', 'migrator']) },
    ]);
    for (const ns of ['billing', 'shop']) {
      const rb = find<K8sObject & { subjects: unknown[]; roleRef: { kind: string; name: string } }>(
        objects,
        'RoleBinding',
        'tether-impersonate',
        ns,
      );
      expect(rb.roleRef).toMatchObject({ kind: 'Role', name: 'tether-impersonate' });
      expect(rb.subjects).toEqual([{ kind: 'ServiceAccount', name: 'tether', namespace: 'tether-system' }]);
    }

    // The agent's config: appResources with its selector; the ServiceAccounts stay in RBAC.
    expect((parse(configOf(objects)) as Record<string, unknown>).appResources).toEqual({
      enabled: true,
      labelSelector: 'tether.dev/shard=a',
    });

    // Switched off: no App rights, no impersonation, and the config says so.
    const off = await renderOk([{ appResources: { enabled: false }, apps: [app('shop', 'shop')] }]);
    expect(ofKind(off.objects, 'ClusterRole')).toEqual([]);
    expect(ofKind(off.objects, 'ClusterRoleBinding')).toEqual([]);
    expect(allVerbsResources(ofKind<RoleObject>(off.objects, 'Role'))).not.toContain('impersonate');
    expect((parse(configOf(off.objects)) as Record<string, unknown>).appResources).toEqual({
      enabled: false,
    });
  });

  it('ships the CRD that tether install-crds prints, and helm installs it from crds/', async () => {
    const file = readFileSync(crdFile, 'utf8');
    const shown = await helm(['show', 'crds', chartDir]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(parse(shown.stdout)).toEqual(parse(file));
    const printed = await tether(['install-crds', '--print']);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toBe(file);
    const withCrds = await renderOk([]);
    expect(ofKind(withCrds.objects, 'CustomResourceDefinition')).toEqual([]);
    const included = await helm(['template', 'tether', chartDir, '--include-crds']);
    expect(included.code, included.stderr).toBe(0);
    const crds = parseAllDocuments(included.stdout)
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => o?.kind === 'CustomResourceDefinition');
    expect(crds).toEqual([parse(file)]);
    // The example App of the chart's README is an App of this CRD.
    const example = parse(readFileSync(join(chartDir, 'examples', 'app.yaml'), 'utf8')) as K8sObject;
    expect([example.apiVersion, example.kind]).toEqual(['tether.dev/v1alpha1', 'App']);
  });
});

describe('charts/tether on the real API server, as its ServiceAccount', () => {
  let release: { name: string; cleanup: () => Promise<void> };
  let shopNs: { name: string; cleanup: () => Promise<void> };
  let otherNs: { name: string; cleanup: () => Promise<void> };
  let git: GitServer;
  let repo: Repo;
  let saKubeconfig = '';
  let rendered = '';

  /** examples-repo/apps/shop, as committed in this repository, moved to a namespace of its own. */
  function shopFiles(namespace: string): Record<string, string> {
    const files: Record<string, string> = {};
    const listing = execFileSyncText('git', [
      '-C',
      repoRoot,
      'ls-tree',
      '--name-only',
      'HEAD',
      'examples-repo/apps/shop/',
    ]);
    for (const path of listing.split('\n').filter(Boolean)) {
      const text = execFileSyncText('git', ['-C', repoRoot, 'show', `HEAD:${path}`]);
      files[path.replace('examples-repo/', '')] = text
        .replace(/^(\s*)namespace: shop$/gm, `$1namespace: ${namespace}`)
        .replace(
          /^kind: Namespace\nmetadata:\n {2}name: shop$/m,
          `kind: Namespace\nmetadata:\n  name: ${namespace}`,
        );
    }
    return files;
  }

  function shopValues(): Record<string, unknown> {
    return {
      apps: [
        {
          name: 'shop',
          source: {
            repo: git.url('deploy'),
            path: 'apps/shop',
            interval: '30s',
            credentialsSecret: { name: 'deploy-repo' },
          },
          destination: { namespace: shopNs.name, allowedNamespaces: [shopNs.name] },
          sync: { mode: 'apply', prune: true, conflicts: 'report' },
          rbac: {
            resources: [
              { apiGroups: ['platform.example.com'], resources: ['backups'] },
              // apps/shop binds its own Role: `bind` on that Role lets the server-side dry-run
              // of the RoleBinding pass before the Role exists (see the chart's README).
              {
                apiGroups: ['rbac.authorization.k8s.io'],
                resources: ['roles'],
                resourceNames: ['web-read-config'],
                verbs: ['bind'],
              },
            ],
          },
        },
      ],
      // apps/shop holds its own Namespace object: the agent may list and watch namespaces
      // (its watch cache), and change that one only.
      rbac: {
        clusterResources: [
          { apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'watch'] },
          {
            apiGroups: [''],
            resources: ['namespaces'],
            resourceNames: [shopNs.name],
            verbs: ['get', 'patch'],
          },
        ],
      },
      // App resources: only those labelled for this test (the cluster is shared), and one
      // ServiceAccount they may have the agent act as.
      appResources: {
        labelSelector: `tether.dev/chart-test=${release.name}`,
        serviceAccounts: [{ namespace: shopNs.name, name: 'deployer' }],
      },
      replicaCount: 2,
      persistence: { enabled: true, accessModes: ['ReadWriteMany'] },
      serviceMonitor: { enabled: true },
      ingress: { enabled: true, hosts: [{ host: 'tether.example.com' }] },
    };
  }

  beforeAll(async () => {
    release = await createNamespace('chart');
    shopNs = await createNamespace('shop');
    otherNs = await createNamespace('other');
    git = await GitServer.start({ auth: creds });
    repo = git.createRepo('deploy');
    repo.commit(shopFiles(shopNs.name), 'shop from examples-repo');
    // The Backup custom resource of apps/shop needs its CRD, which a cluster admin installs.
    await kubectl(
      ['apply', '--server-side', '--force-conflicts', '--field-manager=tether-chart-test', '-f', '-'],
      readFileSync(join(repoRoot, 'examples-repo', 'platform', 'backup-crd.yaml'), 'utf8'),
    );
    await kubectl([
      'wait',
      '--for=condition=Established',
      'crd/backups.platform.example.com',
      '--timeout=60s',
    ]);
    const sm = await run('kubectl', [
      '--kubeconfig',
      kubeconfig(),
      'get',
      'crd',
      'servicemonitors.monitoring.coreos.com',
    ]);
    if (sm.code !== 0) {
      await kubectl(['create', '-f', join(fixtures, 'servicemonitor-crd.yaml')]);
      await kubectl([
        'wait',
        '--for=condition=Established',
        'crd/servicemonitors.monitoring.coreos.com',
        '--timeout=60s',
      ]);
    }
    // What helm installs from the chart's crds/ before the templates.
    const crds = await tether(['install-crds']);
    expect(crds.code, crds.stderr).toBe(0);
    await kubectl(['-n', shopNs.name, 'create', 'serviceaccount', 'deployer']);
    await kubectl([
      'create',
      'secret',
      'generic',
      'deploy-repo',
      '-n',
      release.name,
      `--from-literal=username=${creds.username}`,
      `--from-literal=password=${creds.password}`,
    ]);
  });

  afterAll(async () => {
    const ns = [release, shopNs, otherNs].filter(Boolean);
    if (rendered)
      await run(
        'kubectl',
        ['--kubeconfig', kubeconfig(), 'delete', '--ignore-not-found', '--wait=false', '-f', '-'],
        rendered,
      );
    for (const n of ns) await n.cleanup();
    repo?.dispose();
    await git?.close();
  });

  it('applies with server-side dry-run, then for real, and gives the ServiceAccount no admin rights', async () => {
    const { text, objects } = await renderOk([shopValues()], release.name);
    const dry = await run(
      'kubectl',
      ['--kubeconfig', kubeconfig(), 'apply', '--server-side', '--dry-run=server', '-f', '-'],
      text,
    );
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('serverside-applied (server dry run)');
    expect(await kubectl(['-n', release.name, 'get', 'deployments', '-o', 'name'])).toBe('');

    rendered = text;
    const real = await run(
      'kubectl',
      ['--kubeconfig', kubeconfig(), 'apply', '--server-side', '-f', '-'],
      text,
    );
    expect(real.code, real.stderr).toBe(0);
    for (const o of objects) {
      const group = o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : '';
      const scope = o.metadata.namespace ? ['-n', o.metadata.namespace] : [];
      const live = await kubectlJson<K8sObject>([...scope, 'get', `${o.kind}${group}`, o.metadata.name]);
      expect(live.metadata.name).toBe(o.metadata.name);
    }

    saKubeconfig = await serviceAccountKubeconfig(release.name, 'tether');
    const who = await kubectlAs(saKubeconfig, [
      'auth',
      'whoami',
      '-o',
      'jsonpath={.status.userInfo.username}',
    ]);
    expect(who.stdout).toBe(`system:serviceaccount:${release.name}:tether`);
    const can = async (...args: string[]) =>
      (await kubectlAs(saKubeconfig, ['auth', 'can-i', ...args])).stdout.trim();
    expect(await can('*', '*', '--all-namespaces')).toBe('no');
    expect(await can('list', 'secrets', '--all-namespaces')).toBe('no');
    expect(await can('create', 'configmaps', '-n', otherNs.name)).toBe('no');
    expect(await can('patch', `namespaces/${otherNs.name}`)).toBe('no');
    expect(await can('create', 'clusterroles')).toBe('no');
    expect(await can('patch', 'deployments', '-n', shopNs.name)).toBe('yes');
    expect(await can('delete', 'backups.platform.example.com', '-n', shopNs.name)).toBe('yes');
    expect(await can('patch', `namespaces/${shopNs.name}`)).toBe('yes');
    expect(await can('list', 'namespaces')).toBe('yes');
    expect(await can('create', 'namespaces')).toBe('no');
    expect(await can('delete', `namespaces/${shopNs.name}`)).toBe('no');
    expect(await can('bind', `roles/web-read-config`, '-n', shopNs.name)).toBe('yes');
    expect(await can('bind', `roles/admin-only`, '-n', shopNs.name)).toBe('no');
    expect(await can('update', 'deployments', '-n', shopNs.name)).toBe('no');
    // Leader election: the one Lease by name, in the release namespace only.
    expect(await can('update', 'leases.coordination.k8s.io/tether', '-n', release.name)).toBe('yes');
    expect(await can('update', 'leases.coordination.k8s.io/someone-else', '-n', release.name)).toBe('no');
    expect(await can('create', 'leases.coordination.k8s.io', '-n', release.name)).toBe('yes');
    expect(await can('create', 'leases.coordination.k8s.io', '-n', shopNs.name)).toBe('no');
    expect(await can('delete', 'leases.coordination.k8s.io/tether', '-n', release.name)).toBe('no');
    // App resources: read and watched everywhere, their status written; Secrets only by name.
    // Impersonation: exactly the listed ServiceAccount, in its namespace.
    const appRights: [string[], 'yes' | 'no'][] = [
      [['watch', 'apps.tether.dev', '--all-namespaces'], 'yes'],
      [['patch', 'apps.tether.dev', '--subresource=status', '-n', otherNs.name], 'yes'],
      [['create', 'apps.tether.dev', '-n', otherNs.name], 'no'],
      [['delete', 'apps.tether.dev', '-n', otherNs.name], 'no'],
      [['get', 'secrets/any', '-n', otherNs.name], 'yes'],
      [['watch', 'secrets', '-n', otherNs.name], 'no'],
      [['impersonate', 'serviceaccounts/deployer', '-n', shopNs.name], 'yes'],
      [['impersonate', 'serviceaccounts/default', '-n', shopNs.name], 'no'],
      [['impersonate', 'serviceaccounts/deployer', '-n', otherNs.name], 'no'],
      [['impersonate', 'users'], 'no'],
      [['impersonate', 'groups'], 'no'],
    ];
    for (const [args, want] of appRights) expect(await can(...args), args.join(' ')).toBe(want);
    // ...and the API server lets the agent act as it, with the ServiceAccount's own rights.
    const as = (sa: string, ...args: string[]) =>
      kubectlAs(saKubeconfig, ['--as', `system:serviceaccount:${shopNs.name}:${sa}`, ...args]);
    const acting = await as('deployer', 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}');
    expect(acting.stdout, acting.stderr).toBe(`system:serviceaccount:${shopNs.name}:deployer`);
    const deployerCan = await as('deployer', 'auth', 'can-i', 'create', 'configmaps', '-n', shopNs.name);
    expect(deployerCan.stdout.trim()).toBe('no');
    const other = await as('default', 'get', 'configmaps', '-n', shopNs.name);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/cannot impersonate resource "serviceaccounts"/);
  });

  it('holds and renews the Lease as the ServiceAccount, and cannot take one elsewhere', async () => {
    expect(saKubeconfig, 'the chart was applied').not.toBe('');
    const lease = (ns: string, holder: string) =>
      JSON.stringify({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'tether', namespace: ns },
        spec: { holderIdentity: holder, leaseDurationSeconds: 15 },
      });
    const created = await kubectlAs(saKubeconfig, ['create', '-f', '-'], lease(release.name, 'tether-0'));
    expect(created.code, created.stderr).toBe(0);
    const renewed = await kubectlAs(saKubeconfig, ['replace', '-f', '-'], lease(release.name, 'tether-1'));
    expect(renewed.code, renewed.stderr).toBe(0);
    const elsewhere = await kubectlAs(saKubeconfig, ['create', '-f', '-'], lease(shopNs.name, 'tether-0'));
    expect(elsewhere.code).not.toBe(0);
    expect(elsewhere.stderr).toMatch(/forbidden/i);
  });

  // AGENT: switch point. This runs `tether sync` as the chart's ServiceAccount; to run the agent
  // instead, take the config the chart rendered (the ConfigMap's tether.yaml, in the live
  // cluster), replace /etc/tether/secrets/apps/shop/{username,password} with files in `work`
  // holding `creds`, auditLog with a file in `work` and listen with a free 127.0.0.1 port,
  // start `tether agent --config <that file>` with KUBECONFIG=saKubeconfig (startAgent() in
  // test/support/agent.ts takes `env`), and wait until /status shows the shop app in-sync at
  // the repository's head. The assertions on the live objects stay as they are; the refusal
  // test below then reads the app's lastError from /status instead of stderr.
  it('syncs examples-repo apps/shop with only the RBAC the chart grants', async () => {
    expect(saKubeconfig, 'the chart was applied').not.toBe('');
    // The app the chart's agent runs: the same name, so agent and CLI are one app.
    const args = [
      'sync',
      '--repo',
      git.url('deploy', creds),
      '--path',
      'apps/shop',
      '-n',
      shopNs.name,
      '--app',
      'shop',
    ];
    const env = { KUBECONFIG: saKubeconfig };
    const first = await tether([...args, '--kubeconfig', saKubeconfig], env);
    expect(first.code, first.stderr + first.stdout).toBe(0);
    for (const id of [
      `v1 Namespace ${shopNs.name}`,
      'v1 ConfigMap',
      'v1 Secret',
      'v1 ServiceAccount',
      'rbac.authorization.k8s.io/v1 Role',
      'rbac.authorization.k8s.io/v1 RoleBinding',
      'apps/v1 Deployment',
      'v1 Service',
      'platform.example.com/v1 Backup',
    ]) {
      expect(first.stdout).toMatch(new RegExp(`(created|configured)\\s+${id.replace(/[./]/g, '\\$&')}`));
    }
    expect(first.stdout + first.stderr).not.toContain(creds.password);

    const web = await kubectlJson<K8sObject & { metadata: { managedFields: { manager: string }[] } }>([
      '-n',
      shopNs.name,
      'get',
      'deployment',
      'web',
    ]);
    expect(web.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'tether',
      'tether.dev/app': 'shop',
    });
    expect(web.metadata.managedFields.map((m) => m.manager)).toContain('tether');
    const backup = await kubectlJson<K8sObject>([
      '-n',
      shopNs.name,
      'get',
      'backups.platform.example.com',
      'web-nightly',
    ]);
    expect(backup.metadata.labels).toMatchObject({ 'tether.dev/app': 'shop' });
    const ns = await kubectlJson<K8sObject>(['get', 'namespace', shopNs.name]);
    expect(ns.metadata.labels).toMatchObject({ team: 'storefront' });
    await kubectl(['-n', shopNs.name, 'get', 'configmap', 'tether-inventory-shop']);

    const second = await tether([...args, '--kubeconfig', saKubeconfig], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/unchanged\s+apps\/v1 Deployment/);
    expect(second.stdout).not.toMatch(/^(created|configured|failed)/m);
  });

  it("runs `tether agent` with the config the chart rendered, as the chart's ServiceAccount", async () => {
    expect(saKubeconfig, 'the chart was applied').not.toBe('');
    // The agent config exactly as the chart rendered it into the cluster, with the mounted
    // Secret files, audit log and listen address moved to this machine.
    const cms = await kubectlJson<{ items: { data?: Record<string, string> }[] }>([
      '-n',
      release.name,
      'get',
      'configmaps',
    ]);
    const rendered = cms.items.map((c) => c.data?.['tether.yaml']).find((t) => t !== undefined)!;
    expect(rendered).toContain('name: shop');
    const dir = mkdtempSync(join(tmpdir(), 'tether-chart-agent-'));
    writeFileSync(join(dir, 'username'), creds.username);
    writeFileSync(join(dir, 'password'), creds.password);
    const config = parse(rendered) as Record<string, unknown> & {
      apps: { source: Record<string, unknown> }[];
    };
    for (const a of config.apps) {
      a.source.usernameFile = join(dir, 'username');
      a.source.passwordFile = join(dir, 'password');
      a.source.interval = '1s';
    }
    delete config.listen;
    delete config.auditLog;
    delete config.logLevel;
    const { startAgent, waitFor } = await import('../support/agent.ts');
    const appsYaml = stringify(config.apps).replace(/^/gm, '  ');
    const extra = stringify({ ...config, apps: undefined }).replace(/^apps:.*\n?/m, '');
    const agent = await startAgent({ apps: appsYaml, extra, env: { KUBECONFIG: saKubeconfig }, dir });
    try {
      const head = repo.head();
      await waitFor(
        async () => {
          const st = await agent.status();
          return st.leader && st.apps[0]!.lastAppliedCommit === head && st.apps[0]!.state === 'in-sync';
        },
        30_000,
        'the agent in sync at the head, as leader',
      );
      // Drift healed through the ServiceAccount's own rights.
      await kubectl(['-n', shopNs.name, 'scale', 'deployment', 'web', '--replicas=7']);
      await waitFor(
        async () =>
          (await kubectl(['-n', shopNs.name, 'get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'])) ===
          '2',
        10_000,
        'healed by the agent',
      );
      // A kind the chart did not grant: refused by the API server, reported, not a crash.
      repo.commit(
        {
          'apps/shop/limits.yaml': `apiVersion: v1\nkind: LimitRange\nmetadata: {name: limits, namespace: ${shopNs.name}}\nspec: {limits: [{type: Container, max: {cpu: "2"}}]}\n`,
        },
        'a kind the chart does not grant',
      );
      const { value } = await waitFor(
        async () => {
          const st = (await agent.status()).apps[0]!;
          return st.state === 'error' ? st : undefined;
        },
        15_000,
        'the refusal in /status',
      );
      expect(value.lastError).toMatch(/forbidden/i);
      expect(value.lastError).toContain('limitranges');
      expect(value.lastError).toContain(`system:serviceaccount:${release.name}:tether`);
      expect(agent.proc.exitCode).toBeNull();
      expect(await kubectl(['-n', shopNs.name, 'get', 'limitranges', '-o', 'name'])).toBe('');
      repo.commit({ 'apps/shop/limits.yaml': null }, 'back to what the chart grants');
      await waitFor(async () => (await agent.status()).apps[0]!.state === 'in-sync', 15_000, 'in sync again');
    } finally {
      await agent.stop('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is refused by the API server in a namespace the chart did not grant, as one clear error', async () => {
    expect(saKubeconfig, 'the chart was applied').not.toBe('');
    const sha = repo.commit(
      {
        'apps/stray/a-mine.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mine\n  namespace: ${shopNs.name}\ndata: {a: "1"}\n`,
        'apps/stray/b-theirs.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stray\n  namespace: ${otherNs.name}\ndata: {a: "1"}\n`,
      },
      'an object outside the granted namespaces',
    );
    // The same object is fine for the admin: only the ServiceAccount's RBAC stands in the way.
    const admin = await kubectl(['auth', 'can-i', 'create', 'configmaps', '-n', otherNs.name]);
    expect(admin.trim()).toBe('yes');

    const r = await tether(
      [
        'sync',
        '--repo',
        git.url('deploy', creds),
        '--path',
        'apps/stray',
        '-n',
        shopNs.name,
        '--kubeconfig',
        saKubeconfig,
      ],
      { KUBECONFIG: saKubeconfig },
    );
    expect(r.code).not.toBe(0);
    const out = r.stderr + r.stdout;
    expect(out).toMatch(/forbidden/i);
    expect(out).toContain(otherNs.name);
    expect(out).toContain('stray');
    expect(out).toContain(`system:serviceaccount:${release.name}:tether`);
    expect(out, 'no stack trace').not.toMatch(/^\s+at /m);
    expect(r.stderr.trim().split('\n').length, r.stderr).toBeLessThanOrEqual(3);
    expect(out).toContain(sha.slice(0, 7));
    // Every object is dry-run before the first write: the allowed one was not written either.
    const names = await kubectl(['-n', shopNs.name, 'get', 'configmaps', '-o', 'name']);
    expect(names).not.toContain('configmap/mine');
    const stray = await run('kubectl', [
      '--kubeconfig',
      kubeconfig(),
      '-n',
      otherNs.name,
      'get',
      'configmap',
      'stray',
    ]);
    expect(stray.code).not.toBe(0);
  });
});

function execFileSyncText(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8' });
}
