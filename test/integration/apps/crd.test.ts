/**
 * The App CustomResourceDefinition (charts/tether/crds/apps.tether.dev.yaml) on the real API
 * server, used as people use it: `tether install-crds` run from another directory, kubectl
 * apply of the example App and of broken ones (refused, naming the field), the printer
 * columns of `kubectl get`, and the status subresource the agent writes through.
 * CRDs are cluster-wide and the cluster is shared: installing the same file is idempotent,
 * and no test deletes the CRD.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { KubeClient } from '../../../src/cluster/client.ts';
import { installCrd } from '../../../src/cluster/crds.ts';
import {
  createNamespace,
  impersonatingKubeconfig,
  kubeconfig,
  kubectl,
  kubectlJson,
  kubectlResult,
  repoRoot,
  tether,
} from '../../support/cluster.ts';

const crdFile = join(repoRoot, 'charts', 'tether', 'crds', 'apps.tether.dev.yaml');
const exampleFile = join(repoRoot, 'charts', 'tether', 'examples', 'app.yaml');
const installedLine =
  /^customresourcedefinition\.apiextensions\.k8s\.io\/apps\.tether\.dev (created|configured|unchanged)\n$/;

interface AppObject {
  metadata: { name: string; generation: number; managedFields?: { manager: string; operation: string }[] };
  spec: Record<string, unknown> & { source: Record<string, unknown> };
  status?: Record<string, unknown>;
}

/** An App with the smallest valid spec, changed by `spec`. */
function app(name: string, spec: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: 'tether.dev/v1alpha1',
    kind: 'App',
    metadata: { name },
    spec: { source: { repo: 'https://git.example.com/org/deploy.git' }, ...spec },
  });
}

describe('the App CRD on a real API server', () => {
  let ns: { name: string; cleanup: () => Promise<void> };
  let work: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tether-crd-'));
    ns = await createNamespace('crd');
  });

  afterAll(async () => {
    await ns?.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it('is installed by tether install-crds from any directory; a second run changes nothing', async () => {
    const first = await tether(['install-crds', '--kubeconfig', kubeconfig()], {}, work);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(installedLine);
    // It returned once the API server serves Apps.
    expect(
      await kubectl([
        'get',
        'crd',
        'apps.tether.dev',
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Established")].status}',
      ]),
    ).toBe('True');
    const second = await tether(['install-crds', '--kubeconfig', kubeconfig()], {}, work);
    expect([second.code, second.stdout, second.stderr]).toEqual([
      0,
      'customresourcedefinition.apiextensions.k8s.io/apps.tether.dev unchanged\n',
      '',
    ]);
    const dry = await tether(['install-crds', '--dry-run'], {}, work);
    expect(dry.stdout).toBe(
      'customresourcedefinition.apiextensions.k8s.io/apps.tether.dev unchanged (server dry run)\n',
    );
    const crd = await kubectlJson<AppObject>(['get', 'crd', 'apps.tether.dev']);
    expect(crd.metadata.managedFields).toContainEqual(
      expect.objectContaining({ manager: 'tether', operation: 'Apply' }),
    );
    expect(await kubectl(['api-resources', '--api-group=tether.dev', '--no-headers'])).toMatch(
      /^apps\s+tether\.dev\/v1alpha1\s+true\s+App\n$/,
    );
  });

  it('says created for a CRD the cluster does not have yet (a dry run: nothing is stored)', async () => {
    const group = `t${Date.now().toString(36)}.crd-test.example.com`;
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `widgets.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: { kind: 'Widget', plural: 'widgets' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    };
    const client = await KubeClient.create({ kubeconfig: kubeconfig() });
    try {
      expect(await installCrd(client, crd, { dryRun: true, timeoutMs: 10_000 })).toBe('created');
    } finally {
      client.close();
    }
    const left = await kubectlResult(['get', 'crd', crd.metadata.name]);
    expect(left.code).not.toBe(0);
  });

  it('--print writes the chart file, which kubectl apply takes', async () => {
    const printed = await tether(['install-crds', '--print'], {}, work);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toBe(readFileSync(crdFile, 'utf8'));
    // A server-side dry run: kubectl reads the YAML and the API server checks it, and the
    // shared CRD keeps tether as its only applier.
    const applied = await kubectlResult(['apply', '--dry-run=server', '-f', '-'], printed.stdout);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(
      /^customresourcedefinition\.apiextensions\.k8s\.io\/apps\.tether\.dev (configured|unchanged) \(server dry run\)\n$/,
    );
  });

  it('says what to check when RBAC refuses the install, or the cluster is not there', async () => {
    const nobody = await impersonatingKubeconfig('tether-crd-test-nobody');
    const refused = await tether(['install-crds', '--kubeconfig', nobody], {}, work);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      /^error: cannot install customresourcedefinition apps\.tether\.dev: .*forbidden.*tether-crd-test-nobody/m,
    );
    expect(refused.stderr).toMatch(/^hint: installing a CRD takes a cluster admin .*kubectl auth can-i/m);
    expect(refused.stderr).not.toMatch(/^\s+at /m);

    const gone = join(work, 'gone.kubeconfig');
    writeFileSync(
      gone,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: 'gone', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } },
        ],
        users: [{ name: 'gone', user: { token: 'x' } }],
        contexts: [{ name: 'gone', context: { cluster: 'gone', user: 'gone' } }],
        'current-context': 'gone',
      }),
    );
    const unreachable = await tether(['install-crds', '--kubeconfig', gone], {}, work);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toMatch(
      /^error: cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:1/m,
    );
    expect(unreachable.stderr).toMatch(/^hint: check that the cluster of context "gone" is running/m);

    const usage = await tether(['install-crds', '--timeout', '30'], {}, work);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^error: --timeout "30" is not a duration/m);
  });

  it('accepts the example App and fills in the defaults', async () => {
    const r = await kubectlResult(['-n', ns.name, 'apply', '-f', exampleFile]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('app.tether.dev/shop created\n');
    const live = await kubectlJson<AppObject>(['-n', ns.name, 'get', 'apps.tether.dev', 'shop']);
    expect(live.spec).toMatchObject({
      prune: true,
      suspend: false,
      source: { repo: 'https://git.example.com/org/deploy.git', path: 'apps/shop', interval: '1m' },
      sync: { mode: 'apply', conflicts: 'report', pruneGuard: true, waveTimeout: '5m' },
      notifications: [{ type: 'github', secretRef: { name: 'tether-notify', key: 'github-token' } }],
    });
    // kubectl explain reads the schema's descriptions.
    const explain = await kubectl(['explain', 'apps.tether.dev.spec.serviceAccountName']);
    expect(explain).toContain('impersonates');
  });

  it.each([
    {
      what: 'an unknown field',
      spec: { source: { repo: 'https://h/x.git', branch: 'main' } },
      error: /unknown field "spec\.source\.branch"/,
    },
    {
      what: 'a sync mode that does not exist',
      spec: { sync: { mode: 'sync' } },
      error: /spec\.sync\.mode: Unsupported value: "sync": supported values: "apply", "report"/,
    },
    {
      what: 'an interval without a unit',
      spec: { source: { repo: 'https://h/x.git', interval: '30' } },
      error: /spec\.source\.interval: Invalid value: "30": spec\.source\.interval in body should match/,
    },
    {
      what: 'an interval over 24h',
      spec: { source: { repo: 'https://h/x.git', interval: '25h' } },
      error:
        /spec\.source\.interval: Invalid value: "25h": source\.interval must be more than 0 and at most 24h/,
    },
    {
      what: 'a path climbing out of the repository',
      spec: { source: { repo: 'https://h/x.git', path: 'apps/../../etc' } },
      error:
        /spec\.source\.path: Invalid value: "apps\/\.\.\/\.\.\/etc": source\.path must be a relative path/,
    },
    {
      what: 'an absolute path',
      spec: { source: { repo: 'https://h/x.git', path: '/etc' } },
      error: /spec\.source\.path: Invalid value: "\/etc"/,
    },
    {
      what: 'a github notification without secretRef',
      spec: { notifications: [{ type: 'github', repository: 'org/deploy' }] },
      error:
        /spec\.notifications\[0\]\.secretRef: Required value: notifications: github and gitlab need secretRef/,
    },
    {
      what: 'a webhook notification without url',
      spec: { notifications: [{ type: 'webhook', secretRef: { name: 'hook', key: 'secret' } }] },
      error: /spec\.notifications\[0\]\.url: Required value: notifications: webhook needs url/,
    },
    {
      what: 'a repository on a gitlab notification',
      spec: {
        notifications: [
          { type: 'gitlab', repository: 'org/deploy', secretRef: { name: 'gl', key: 'token' } },
        ],
      },
      error:
        /spec\.notifications\[0\]\.repository: Forbidden: notifications: repository is only for type github/,
    },
    {
      what: 'a slack notification with neither url nor secretRef',
      spec: { notifications: [{ type: 'slack' }] },
      error: /spec\.notifications\[0\]\.url: Invalid value: .*slack needs exactly one of url and secretRef/,
    },
    {
      what: 'an empty ignore rule',
      spec: { sync: { ignore: [{ managers: ['hpa'] }, {}] } },
      error: /spec\.sync\.ignore\[1\]: Invalid value: .*a rule needs paths, kinds, names or managers/,
    },
    {
      what: 'required signatures without keys',
      spec: { source: { repo: 'https://h/x.git', verify: { mode: 'required' } } },
      error: /spec\.source\.verify\.secretRef: Required value/,
    },
    {
      what: 'a destination outside the allowed namespaces',
      spec: { destination: { namespace: 'a', allowedNamespaces: ['b'] } },
      error: /spec\.destination\.namespace: Invalid value: .*must be one of destination\.allowedNamespaces/,
    },
    {
      what: 'a name longer than 63 characters',
      name: 'a'.repeat(64),
      error: /metadata\.name: Too long: may not be more than 63 bytes/,
    },
    {
      what: 'a name with a dot',
      name: 'shop.v2',
      error: /metadata\.name: Invalid value: "shop\.v2": metadata\.name in body should match/,
    },
  ])('kubectl apply refuses $what, naming the field', async ({ spec, name, error }) => {
    const r = await kubectlResult(['-n', ns.name, 'apply', '-f', '-'], app(name ?? 'broken', spec));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(error);
    expect(await kubectl(['-n', ns.name, 'get', 'apps.tether.dev', '-o', 'name'])).not.toContain('broken');
  });

  it('shows the status in the printer columns of kubectl get', async () => {
    await kubectl(['-n', ns.name, 'apply', '-f', '-'], app('columns'));
    const status = {
      observedGeneration: 1,
      state: 'synced',
      health: 'Current',
      commit: '0123456789ab',
      lastAppliedCommit: '0123456789abcdef0123456789abcdef01234567',
      lastSeenCommit: '0123456789abcdef0123456789abcdef01234567',
      driftedObjects: 0,
      lastReconcileAt: '2026-01-02T03:04:05Z',
      mode: 'apply',
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          observedGeneration: 1,
          lastTransitionTime: '2026-01-02T03:04:05Z',
          reason: 'Synced',
          message: 'applied 0123456789ab, all objects Current',
        },
        {
          type: 'Reconciling',
          status: 'False',
          observedGeneration: 1,
          lastTransitionTime: '2026-01-02T03:04:05Z',
          reason: 'Synced',
          message: '',
        },
      ],
    };
    const patched = await kubectlResult([
      '-n',
      ns.name,
      'patch',
      'apps.tether.dev',
      'columns',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status }),
    ]);
    expect(patched.code, patched.stderr).toBe(0);
    const table = await kubectl(['get', 'apps.tether.dev', '-A']);
    const [header, ...rows] = table.trim().split('\n');
    expect(header!.split(/\s+/)).toEqual(['NAMESPACE', 'NAME', 'READY', 'STATUS', 'COMMIT', 'HEALTH', 'AGE']);
    const row = rows.find((r) => r.startsWith(`${ns.name} `) && r.split(/\s+/)[1] === 'columns');
    expect(row?.split(/\s+/).slice(0, 6)).toEqual([
      ns.name,
      'columns',
      'True',
      'synced',
      '0123456789ab',
      'Current',
    ]);
    const wide = await kubectl(['-n', ns.name, 'get', 'apps.tether.dev', 'columns', '-o', 'wide']);
    expect(wide.split('\n')[0]).toMatch(/\bMESSAGE$/);
    expect(wide).toContain('applied 0123456789ab, all objects Current');
    // `kubectl get tether` lists Apps too (category tether).
    expect(await kubectl(['-n', ns.name, 'get', 'tether', '-o', 'name'])).toContain('app.tether.dev/columns');
  });

  it('keeps spec and status apart: the status subresource', async () => {
    await kubectl(['-n', ns.name, 'apply', '-f', '-'], app('subresource'));
    const get = () => kubectlJson<AppObject>(['-n', ns.name, 'get', 'apps.tether.dev', 'subresource']);
    const patch = (body: unknown, ...extra: string[]) =>
      kubectlResult([
        '-n',
        ns.name,
        'patch',
        'apps.tether.dev',
        'subresource',
        '--type=merge',
        '-p',
        JSON.stringify(body),
        ...extra,
      ]);
    // Through /status, a spec change is ignored.
    const viaStatus = await patch(
      { spec: { suspend: true }, status: { state: 'drifted' } },
      '--subresource=status',
    );
    expect(viaStatus.code, viaStatus.stderr).toBe(0);
    let live = await get();
    expect(live.spec.suspend).toBe(false);
    expect(live.status?.state).toBe('drifted');
    expect(live.metadata.generation).toBe(1);
    // Through the object, a status change is ignored, and a spec change counts a generation.
    const viaObject = await patch({ spec: { suspend: true }, status: { state: 'error' } });
    expect(viaObject.code, viaObject.stderr).toBe(0);
    live = await get();
    expect(live.spec.suspend).toBe(true);
    expect(live.status?.state).toBe('drifted');
    expect(live.metadata.generation).toBe(2);
    // The status is checked too: a condition is metav1.Condition.
    const bad = await patch(
      { status: { conditions: [{ type: 'Ready', status: 'Maybe', reason: 'X', message: '' }] } },
      '--subresource=status',
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/status\.conditions\[0\]\.status: Unsupported value: "Maybe"/);
    expect(bad.stderr).toMatch(/status\.conditions\[0\]\.lastTransitionTime: Required value/);
  });
});
