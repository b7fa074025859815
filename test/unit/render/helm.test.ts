import { describe, expect, it } from 'vitest';
import type { RenderReferenceError } from '../../../src/manifests/errors.ts';
import type { SourceFile } from '../../../src/manifests/index.ts';
import { readDeclaration, type HelmDeclaration } from '../../../src/render/declaration.ts';
import { checkChart, helmArgv, helmEnv, helmSources } from '../../../src/render/helm.ts';
import { repoTree } from '../../../src/render/kustomize-refs.ts';
import { COMMIT, SHORT, file } from '../manifests/helpers.ts';

const CHART_YAML = [
  'apiVersion: v2',
  'name: web',
  'version: 1.2.0',
  'dependencies:',
  '  - name: common-lib',
  '    version: 0.3.0',
  '    repository: https://charts.example.com/stable',
  '  - name: redis',
  '    version: 19.0.1',
  '    repository: oci://registry.example.com/charts',
  '',
].join('\n');

/** A chart under charts/web and an environment envs/dev declaring it. */
function chartRepo(declaration: string, extra: SourceFile[] = []): SourceFile[] {
  return [
    file('envs/dev/tether-render.yaml', declaration),
    file('envs/dev/values.yaml', 'replicaCount: 2\n'),
    file('charts/web/Chart.yaml', 'apiVersion: v2\nname: web\nversion: 1.2.0\n'),
    file('charts/web/values.yaml', 'replicaCount: 1\n'),
    file('charts/web/templates/deployment.yaml', 'kind: Deployment\n'),
    ...extra,
  ];
}

function check(files: SourceFile[], dir = 'envs/dev'): RenderReferenceError[] {
  const declaring =
    files.find((f) => f.path === `${dir}/tether-render.yaml`) ??
    files.find((f) => f.path === `${dir}/Chart.yaml`);
  if (!declaring) throw new Error(`no declaration in ${dir}`);
  const decl = readDeclaration(declaring, COMMIT);
  if (decl.renderer !== 'helm') throw new Error('not a helm declaration');
  return checkChart(repoTree(files), decl, COMMIT);
}

const where = (errors: RenderReferenceError[]) =>
  errors.map((e) => `${e.location.file}:${e.location.line}:${e.location.column} ${e.detail}`);

describe('checkChart', () => {
  it('accepts a chart elsewhere in the repository with values beside the declaration', () => {
    expect(check(chartRepo('renderer: helm\nchart: ../../charts/web\nvaluesFiles: [values.yaml]\n'))).toEqual(
      [],
    );
  });

  it('refuses a chart without Chart.yaml', () => {
    const errors = check(chartRepo('renderer: helm\nchart: ../../charts/api\n'));
    expect(where(errors)).toEqual([
      'envs/dev/tether-render.yaml:1:1 no chart at charts/api: Chart.yaml is missing',
    ]);
    expect(errors[0]?.message).toBe(
      `envs/dev/tether-render.yaml:1:1 (commit ${SHORT}): no chart at charts/api: Chart.yaml is missing`,
    );
    expect(errors[0]?.hint).toMatch(/Chart\.yaml/);
    // A directory whose templates are there but not its Chart.yaml is no chart either.
    const noChartYaml = chartRepo('renderer: helm\nchart: ../../charts/web\n').filter(
      (f) => f.path !== 'charts/web/Chart.yaml',
    );
    expect(where(check(noChartYaml))).toEqual([
      'envs/dev/tether-render.yaml:1:1 no chart at charts/web: Chart.yaml is missing',
    ]);
  });

  it('refuses a chart path leaving the repository', () => {
    const errors = check(chartRepo('renderer: helm\nchart: ../../../charts/web\n'));
    expect(where(errors)).toEqual([
      'envs/dev/tether-render.yaml:1:1 the chart ../charts/web leaves the repository',
    ]);
  });

  it('refuses values files that are missing or leave the repository, all of them', () => {
    const errors = check(
      chartRepo(
        'renderer: helm\nchart: ../../charts/web\nvaluesFiles: [values.yaml, values-eu.yaml, ../../../secrets.yaml]\n',
      ),
    );
    expect(where(errors)).toEqual([
      'envs/dev/tether-render.yaml:1:1 values file envs/dev/values-eu.yaml does not exist in the commit',
      'envs/dev/tether-render.yaml:1:1 values file ../secrets.yaml leaves the repository',
    ]);
    // A directory is not a values file.
    expect(
      where(check(chartRepo('renderer: helm\nchart: ../../charts/web\nvaluesFiles: [../../charts/web]\n'))),
    ).toEqual(['envs/dev/tether-render.yaml:1:1 values file charts/web does not exist in the commit']);
  });

  it('names each dependency that is not vendored, at its line in Chart.yaml, with its repository', () => {
    const files = chartRepo('renderer: helm\nchart: ../../charts/web\n', [
      file('charts/web/Chart.yaml', CHART_YAML),
    ]);
    const errors = check(files);
    expect(where(errors)).toEqual([
      'charts/web/Chart.yaml:5:11 chart dependency common-lib (https://charts.example.com/stable) is not vendored under charts/web/charts/',
      'charts/web/Chart.yaml:8:11 chart dependency redis (oci://registry.example.com/charts) is not vendored under charts/web/charts/',
    ]);
    expect(errors[0]?.hint).toBe(
      'run `helm dependency build charts/web` and commit charts/web/charts/: Tether never fetches charts',
    );
  });

  it('accepts dependencies vendored as a directory or as a .tgz', () => {
    const files = chartRepo('renderer: helm\nchart: ../../charts/web\n', [
      file('charts/web/Chart.yaml', CHART_YAML),
      file('charts/web/charts/common-lib/Chart.yaml', 'apiVersion: v2\nname: common-lib\nversion: 0.3.0\n'),
      file('charts/web/charts/redis-19.0.1.tgz', new Uint8Array([0x1f, 0x8b, 0x08])),
    ]);
    expect(check(files)).toEqual([]);
    // Only one of the two vendored: the other is still named.
    expect(check(files.filter((f) => !f.path.endsWith('.tgz'))).map((e) => e.location.line)).toEqual([8]);
    // A .tgz deeper down, or a directory without Chart.yaml, is not vendoring.
    const misplaced = chartRepo('renderer: helm\nchart: ../../charts/web\n', [
      file('charts/web/Chart.yaml', CHART_YAML),
      file('charts/web/charts/common-lib/values.yaml', 'a: 1\n'),
      file('charts/web/charts/old/redis-19.0.1.tgz', 'x'),
    ]);
    expect(check(misplaced).map((e) => e.location.line)).toEqual([5, 8]);
  });

  it('checks a chart declared by its own Chart.yaml at the repository root', () => {
    const files = [
      file('Chart.yaml', CHART_YAML),
      file('charts/common-lib/Chart.yaml', 'name: common-lib\n'),
      file('templates/x.yaml', 'kind: ConfigMap\n'),
    ];
    const decl: HelmDeclaration = {
      renderer: 'helm',
      dir: '',
      declaredIn: 'Chart.yaml',
      chart: '',
      valuesFiles: [],
      includeCrds: true,
    };
    const errors = checkChart(repoTree(files), decl, COMMIT);
    expect(where(errors)).toEqual([
      'Chart.yaml:8:11 chart dependency redis (oci://registry.example.com/charts) is not vendored under charts/',
    ]);
    expect(errors[0]?.hint).toMatch(/^run `helm dependency build \.`/);
  });
});

describe('helmArgv', () => {
  it('renders offline with CRDs, without tests, for the cluster version, values in order', () => {
    expect(
      helmArgv({
        helm: '/usr/local/bin/helm',
        release: 'shop',
        chartDir: '/w/src/charts/web',
        namespace: 'shop',
        kubeVersion: 'v1.36.3',
        valuesFiles: [
          '/w/src/envs/prod/values.yaml',
          '/w/src/envs/prod/values-eu.yaml',
          '/w/run-1/values-0.yaml',
        ],
        includeCrds: true,
      }),
    ).toEqual([
      '/usr/local/bin/helm',
      'template',
      'shop',
      '/w/src/charts/web',
      '--namespace',
      'shop',
      '--include-crds',
      '--skip-tests',
      '--kube-version',
      'v1.36.3',
      '--values',
      '/w/src/envs/prod/values.yaml',
      '--values',
      '/w/src/envs/prod/values-eu.yaml',
      '--values',
      '/w/run-1/values-0.yaml',
    ]);
  });

  it('leaves out CRDs and the version when not wanted or not known', () => {
    const argv = helmArgv({
      helm: 'helm',
      release: 'r',
      chartDir: '/c',
      namespace: 'default',
      valuesFiles: [],
      includeCrds: false,
    });
    expect(argv).toEqual(['helm', 'template', 'r', '/c', '--namespace', 'default', '--skip-tests']);
  });

  it('keeps helm’s config, cache, data and plugins inside the renderer’s HOME', () => {
    const env = helmEnv('/w/run-1/home');
    expect(Object.values(env).every((v) => v.startsWith('/w/run-1/home/'))).toBe(true);
    expect(Object.keys(env).sort()).toEqual([
      'HELM_CACHE_HOME',
      'HELM_CONFIG_HOME',
      'HELM_DATA_HOME',
      'HELM_PLUGINS',
    ]);
  });
});

describe('helmSources', () => {
  const output = [
    '---',
    '# Source: web/crds/widgets.yaml',
    'kind: CustomResourceDefinition',
    '---',
    '# Source: web/charts/common-lib/templates/configmap.yaml',
    'kind: ConfigMap',
    '---',
    '# Source: web/templates/x.yaml',
    'kind: Service',
    'data:',
    '  note: "# Source: not/a/comment.yaml"',
    '',
  ].join('\n');

  it('maps each `# Source:` comment to the repository path inside the chart directory', () => {
    expect(helmSources(output, 'charts/web')).toEqual([
      { line: 2, file: 'charts/web/crds/widgets.yaml' },
      { line: 5, file: 'charts/web/charts/common-lib/templates/configmap.yaml' },
      { line: 8, file: 'charts/web/templates/x.yaml' },
    ]);
  });

  it('maps to the repository root for a chart at the root', () => {
    expect(helmSources(output, '').map((s) => s.file)).toEqual([
      'crds/widgets.yaml',
      'charts/common-lib/templates/configmap.yaml',
      'templates/x.yaml',
    ]);
  });
});

describe('vendored dependencies are matched by name and version', () => {
  it('another chart whose name starts the same does not vendor a dependency', () => {
    const chart = file(
      'charts/web/Chart.yaml',
      'apiVersion: v2\nname: web\nversion: 1.2.0\ndependencies:\n  - name: common\n    version: 1.0.0\n    repository: https://charts.example.com\n',
    );
    const files = [
      ...chartRepo('renderer: helm\nchart: ../../charts/web\n').filter((f) => f.path !== chart.path),
      chart,
      file('charts/web/charts/common-lib-0.3.0.tgz', 'x'),
    ];
    expect(where(check(files))).toEqual([
      'charts/web/Chart.yaml:5:11 chart dependency common (https://charts.example.com) is not vendored under charts/web/charts/',
    ]);
    expect(check([...files, file('charts/web/charts/common-1.0.0.tgz', 'x')])).toEqual([]);
  });
});
