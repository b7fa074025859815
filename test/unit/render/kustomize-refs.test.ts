import { describe, expect, it } from 'vitest';
import { RenderReferenceError } from '../../../src/manifests/errors.ts';
import type { SourceFile } from '../../../src/manifests/index.ts';
import {
  checkKustomizeRefs,
  isRemoteReference,
  repoTree,
  type RefCheckOptions,
} from '../../../src/render/kustomize-refs.ts';
import { COMMIT, SHORT, file } from '../manifests/helpers.ts';

const OVERLAY = 'deploy/overlays/dev';
const KFILE = `${OVERLAY}/kustomization.yaml`;

/** A repository with shared bases, a component and a shared patch, plus the overlay given. */
function repo(overlay: string, extra: SourceFile[] = []): SourceFile[] {
  return [
    file(KFILE, overlay),
    file(`${OVERLAY}/worker.yaml`, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: worker}\n'),
    file('deploy/bases/web/kustomization.yaml', 'resources: [deployment.yaml]\n'),
    file(
      'deploy/bases/web/deployment.yaml',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n',
    ),
    file(
      'deploy/components/monitoring/kustomization.yaml',
      'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n',
    ),
    file(
      'deploy/shared/patches/resources.yaml',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n',
    ),
    file('deploy/shared/config/app.properties', 'a=b\n'),
    ...extra,
  ];
}

function check(files: SourceFile[], opts: Partial<RefCheckOptions> = {}, dir = OVERLAY) {
  return checkKustomizeRefs(repoTree(files), dir, { commit: COMMIT, allowRemote: false, ...opts });
}

/** file:line:column and message of each problem. */
const where = (errors: RenderReferenceError[]) =>
  errors.map((e) => `${e.location.file}:${e.location.line}:${e.location.column} ${e.detail}`);

describe('checkKustomizeRefs', () => {
  it('accepts bases, components and patches elsewhere in the repository', () => {
    const errors = check(
      repo(
        [
          'resources:',
          '  - ../../bases/web',
          '  - worker.yaml',
          'components:',
          '  - ../../components/monitoring',
          'patches:',
          '  - path: ../../shared/patches/resources.yaml',
          'configMapGenerator:',
          '  - name: app',
          '    files: [app.properties=../../shared/config/app.properties]',
          '',
        ].join('\n'),
      ),
    );
    expect(errors).toEqual([]);
  });

  it('refuses paths leaving the repository at the entry’s file:line:column', () => {
    const errors = check(
      repo('resources:\n  - ../../bases/web\n  - ../../../../../etc/x\ncomponents: [/etc/passwd]\n', [
        // ../../../../../etc/x as a directory does not matter: it is never looked up.
        file('etc/x/kustomization.yaml', 'resources: []\n'),
      ]),
    );
    expect(errors.every((e) => e instanceof RenderReferenceError)).toBe(true);
    expect(where(errors)).toEqual([
      `${KFILE}:3:5 resources: ../../../../../etc/x leaves the repository (it resolves outside its root)`,
      `${KFILE}:4:14 components: /etc/passwd is an absolute path, which leaves the repository`,
    ]);
    expect(errors[0]?.message).toBe(
      `${KFILE}:3:5 (commit ${SHORT}): resources: ../../../../../etc/x leaves the repository (it resolves outside its root)`,
    );
    expect(errors[0]?.hint).toMatch(/inside the repository/);
  });

  it('refuses a path that leaves and comes back in only when it really leaves', () => {
    // deploy/overlays/dev + ../../../deploy/bases/web is deploy/bases/web: inside.
    expect(check(repo('resources: [../../../deploy/bases/web]\n'))).toEqual([]);
    // One level further up names the repository's parent directory.
    expect(where(check(repo('resources: [../../../../main/deploy/bases/web]\n')))).toEqual([
      `${KFILE}:1:13 resources: ../../../../main/deploy/bases/web leaves the repository (it resolves outside its root)`,
    ]);
  });

  const remotes = [
    'http://127.0.0.1:18777/remote.yaml',
    'https://example.com/org/repo/base.yaml',
    'git@github.com:org/repo.git',
    'github.com/org/repo//base?ref=v1',
    'https://github.com/org/repo//deploy/base?ref=v1.2.3',
  ];

  it.each(remotes)('refuses remote %s unless remote bases are allowed', (remote) => {
    const files = repo(`resources:\n  - ../../bases/web\n  - ${remote}\n`);
    const errors = check(files);
    expect(where(errors)).toEqual([
      `${KFILE}:3:5 resources: remote ${remote} is refused: this app does not allow remote bases`,
    ]);
    expect(errors[0]?.hint).toMatch(/render\.allowRemoteBases/);
    expect(check(files, { allowRemote: true })).toEqual([]);
  });

  it('tells remote references from local paths', () => {
    for (const remote of remotes) expect(isRemoteReference(remote)).toBe(true);
    for (const local of ['../../bases/web', 'deployment.yaml', 'config.d/app.yaml', 'v1.2/base'])
      expect(isRemoteReference(local)).toBe(false);
  });

  it('still refuses escapes when remote bases are allowed', () => {
    const errors = check(repo('resources: [../../../../../etc/x, /etc/passwd]\n'), { allowRemote: true });
    expect(where(errors)).toEqual([
      `${KFILE}:1:13 resources: ../../../../../etc/x leaves the repository (it resolves outside its root)`,
      `${KFILE}:1:35 resources: /etc/passwd is an absolute path, which leaves the repository`,
    ]);
  });

  it('reports a missing path as not existing in the commit', () => {
    const errors = check(
      repo('resources:\n  - ../../bases/api\npatches:\n  - path: ../../shared/patches/missing.yaml\n'),
    );
    expect(where(errors)).toEqual([
      `${KFILE}:2:5 resources: ../../bases/api does not exist in the commit`,
      `${KFILE}:4:11 patches.path: ../../shared/patches/missing.yaml does not exist in the commit`,
    ]);
    expect(errors[0]?.hint).toMatch(/relative to the kustomization/);
  });

  it('follows nested kustomizations and reports a problem at the file that has it', () => {
    const files = repo('resources: [../../bases/web]\n', [
      file(
        'deploy/bases/web/kustomization.yaml',
        'resources:\n  - deployment.yaml\n  - ../../../../secrets\n',
      ),
    ]);
    const errors = check(files);
    expect(where(errors)).toEqual([
      'deploy/bases/web/kustomization.yaml:3:5 resources: ../../../../secrets leaves the repository (it resolves outside its root)',
    ]);
    // Paths in the base are relative to the base (here a kustomization.yml): the same
    // entry written in the overlay would leave the repository.
    const base = [
      file('deploy/bases/web/kustomization.yml', 'resources: [../../shared/patches/resources.yaml]\n'),
    ];
    const withYml = repo('resources: [../../bases/web]\n').filter(
      (f) => f.path !== 'deploy/bases/web/kustomization.yaml',
    );
    expect(check([...withYml, ...base])).toEqual([]);
    expect(where(check(repo('resources: [../../../shared/patches/resources.yaml]\n')))).toEqual([
      `${KFILE}:1:13 resources: ../../../shared/patches/resources.yaml does not exist in the commit`,
    ]);
  });

  it('follows a chain of kustomizations through components and bases', () => {
    const files = repo('resources: [../../bases/web]\n', [
      file('deploy/bases/web/kustomization.yaml', 'components: [../../components/monitoring]\n'),
      file(
        'deploy/components/monitoring/kustomization.yaml',
        'kind: Component\nresources: [https://x.test/a.yaml]\n',
      ),
    ]);
    expect(where(check(files))).toEqual([
      'deploy/components/monitoring/kustomization.yaml:2:13 resources: remote https://x.test/a.yaml is refused: this app does not allow remote bases',
    ]);
  });

  it('terminates on cycles and reports each problem once', () => {
    const files = [
      file('a/kustomization.yaml', 'resources: [../b, /etc/shadow]\n'),
      file('b/kustomization.yaml', 'resources: [../a, ../b, .]\n'),
    ];
    expect(where(check(files, {}, 'a'))).toEqual([
      'a/kustomization.yaml:1:19 resources: /etc/shadow is an absolute path, which leaves the repository',
    ]);
    // Reached from b first, the same problem is still named at a's file, once.
    expect(check(files, {}, 'b').map((e) => e.location.file)).toEqual(['a/kustomization.yaml']);
  });

  it('checks generator files written key=path', () => {
    const overlay = [
      'configMapGenerator:',
      '  - name: app',
      '    files:',
      '      - app.properties=../../shared/config/app.properties',
      '      - key=../../../../x',
      '      - ../../../../y',
      'secretGenerator:',
      '  - name: creds',
      '    envs: [../../../../z.env]',
      '    env: /etc/environment',
      '',
    ].join('\n');
    expect(where(check(repo(overlay)))).toEqual([
      `${KFILE}:5:9 configMapGenerator.files: ../../../../x leaves the repository (it resolves outside its root)`,
      `${KFILE}:6:9 configMapGenerator.files: ../../../../y leaves the repository (it resolves outside its root)`,
      `${KFILE}:9:12 secretGenerator.envs: ../../../../z.env leaves the repository (it resolves outside its root)`,
      `${KFILE}:10:10 secretGenerator.env: /etc/environment is an absolute path, which leaves the repository`,
    ]);
  });

  it('wants a file, not a directory, for a generator file', () => {
    const errors = check(repo('configMapGenerator:\n  - name: app\n    files: [../../shared/config]\n'));
    expect(where(errors)).toEqual([
      `${KFILE}:3:13 configMapGenerator.files: ../../shared/config is a directory, a file was expected`,
    ]);
  });

  it('skips inline patches', () => {
    const overlay = [
      'resources: [../../bases/web]',
      'patches:',
      '  - patch: "[{op: add, path: /metadata/labels/x, value: y}]"',
      '    target: {kind: Deployment}',
      '  - patch: |-',
      '      - op: replace',
      '        path: /spec/replicas',
      '        value: 2',
      '  - path: ../../shared/patches/resources.yaml',
      'patchesStrategicMerge:',
      '  - |-',
      '    apiVersion: apps/v1',
      '    kind: Deployment',
      '    metadata: {name: ../../../../web}',
      '',
    ].join('\n');
    expect(check(repo(overlay))).toEqual([]);
  });

  it('refuses kustomize helm inflation', () => {
    const errors = check(
      repo('resources: [worker.yaml]\nhelmCharts:\n  - name: web\n    repo: https://charts.example.com\n'),
    );
    expect(where(errors)).toEqual([
      `${KFILE}:2:1 helmCharts: kustomize's helm inflation is refused (it runs helm and fetches charts)`,
    ]);
    expect(errors[0]?.hint).toMatch(/renderer: helm/);
    // Allowing remote bases does not allow helm.
    expect(check(repo('helmGlobals: {chartHome: charts}\n'), { allowRemote: true })).toHaveLength(1);
  });

  it('accepts a file where a directory or a file may be given', () => {
    expect(
      check(
        repo(
          'resources:\n  - ../../bases/web/deployment.yaml\n  - ../../shared/patches/resources.yaml\ncomponents: [../../components/monitoring]\n',
        ),
      ),
    ).toEqual([]);
  });

  it('has nothing to say about a directory without a kustomization', () => {
    expect(check([file('plain/x.yaml', 'a: 1\n')], {}, 'plain')).toEqual([]);
  });
});

describe('local paths that only look remote', () => {
  it('a path with `//` leaving the repository is refused even where remote bases are allowed', () => {
    const errors = check(repo('resources:\n  - ../../../../rb/secret//cm.yaml\n'), { allowRemote: true });
    expect(where(errors)).toEqual([
      `${KFILE}:2:5 resources: ../../../../rb/secret//cm.yaml leaves the repository (it resolves outside its root)`,
    ]);
  });

  it('a file:// URL reads the machine and is refused whatever the app allows', () => {
    const errors = check(repo('resources:\n  - file:///etc/tether//x\n'), { allowRemote: true });
    expect(where(errors)).toEqual([
      `${KFILE}:2:5 resources: file:///etc/tether//x reads the machine's files, outside the repository`,
    ]);
  });

  it('a directory of the commit named like a host is local', () => {
    const files = repo('resources:\n  - my.app/\n', [
      file(`${OVERLAY}/my.app/kustomization.yaml`, 'resources: [../../../../../etc/x]\n'),
    ]);
    // Followed as a local base, whose own escape is then reported.
    expect(where(check(files, { allowRemote: false }))).toEqual([
      `${OVERLAY}/my.app/kustomization.yaml:1:13 resources: ../../../../../etc/x leaves the repository (it resolves outside its root)`,
    ]);
  });
});
