import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ManifestSyntaxError,
  RenderDeclarationError,
  RenderError,
  loadManifests,
} from '../../../src/manifests/index.ts';
import { loadManifestsWithRenderers, renderDirectory } from '../../../src/render/index.ts';
import { findOnPath } from '../../../src/render/kustomize.ts';
import type { SourceFile } from '../../../src/manifests/index.ts';
import { COMMIT, FIXTURES, SHORT, errorsOfAsync, file, readFixture } from '../manifests/helpers.ts';

const RENDER = join(FIXTURES, 'render');
const kubectl = findOnPath('kubectl', process.env['PATH'] ?? '') ?? findOnPath('kubectl', '/usr/local/bin');
const shopFiles = (): SourceFile[] => readFixture(RENDER, 'shop');

const script = (path: string, body: string): SourceFile => ({
  ...file(path, `#!/bin/sh\n${body}\n`),
  mode: 0o100755,
});
const declare = (dir: string, yaml: string): SourceFile => file(`${dir}/tether-render.yaml`, yaml);

async function renderError(promise: Promise<unknown>): Promise<RenderError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof RenderError) return e;
    throw e;
  }
  throw new Error('expected a RenderError');
}

describe('kustomize renderer', () => {
  it('yields exactly what `kubectl kustomize` prints for the same directory', async () => {
    const rendered = [(await renderDirectory(shopFiles(), 'shop/overlays/prod', { commit: COMMIT })).file];
    expect(rendered.map((f) => f.path)).toEqual(['shop/overlays/prod/<kustomize output>.yaml']);
    const direct = execFileSync(kubectl ?? 'kubectl', ['kustomize', join(RENDER, 'shop/overlays/prod')]);
    expect(Buffer.from(rendered[0]?.content ?? []).toString()).toBe(direct.toString());
    const ours = loadManifests(rendered, { commit: COMMIT }).map((m) => m.object);
    const theirs = loadManifests([file('direct.yaml', direct)], { commit: COMMIT }).map((m) => m.object);
    // Config hashes are injected on both sides alike; compare everything.
    expect(ours).toEqual(theirs);
    expect(
      ours.map((o) => `${String(o['kind'])}/${String((o['metadata'] as { name: string }).name)}`),
    ).toEqual([
      expect.stringMatching(/^ConfigMap\/prod-web-config-[a-z0-9]{10}$/),
      'Service/prod-web',
      'Deployment/prod-web',
    ]);
  });

  it('loadManifestsWithRenderers renders kustomize dirs and reads the rest plainly', async () => {
    const manifests = await loadManifestsWithRenderers(shopFiles(), { commit: COMMIT, basePath: 'shop' });
    // base/ and overlays/prod/ both declare kustomizations; neither is inside the other.
    // Generated ConfigMap names end in a content hash of kustomize's own.
    const unhashed = (name: string) => name.replace(/-[a-z0-9]{10}$/, '-<hash>');
    expect(
      manifests.map((m) => `${m.source.file} ${m.id.kind}/${m.id.namespace}/${unhashed(m.id.name)}`),
    ).toEqual([
      // Each object names the repository file it came from (kustomize's origin annotations,
      // taken out again before anything is applied); generated ones their kustomization.
      'shop/base/kustomization.yaml ConfigMap//web-config-<hash>',
      'shop/base/deployment.yaml Deployment//web',
      'shop/base/kustomization.yaml ConfigMap/shop/prod-web-config-<hash>',
      'shop/overlays/prod/service.yaml Service/shop/prod-web',
      'shop/base/deployment.yaml Deployment/shop/prod-web',
      'shop/plain.yaml Namespace//shop',
    ]);
    // The config hash sees the generated ConfigMap of the same render.
    const deploy = manifests.find((m) => m.id.name === 'prod-web' && m.id.kind === 'Deployment');
    const template = (
      deploy?.object['spec'] as { template: { metadata: { annotations: Record<string, string> } } }
    ).template;
    expect(template.metadata.annotations['tether.dev/config-hash']).toMatch(/^[0-9a-f]{64}$/);
    for (const m of manifests) {
      const annotations =
        (m.object['metadata'] as { annotations?: Record<string, string> }).annotations ?? {};
      expect(Object.keys(annotations)).not.toContain('config.kubernetes.io/origin');
    }
  });

  it('renders only the app path, with bases reachable outside it', async () => {
    const manifests = await loadManifestsWithRenderers(shopFiles(), {
      commit: COMMIT,
      basePath: 'shop/overlays/prod',
    });
    expect(manifests.map((m) => m.id.name.replace(/-[a-z0-9]{10}$/, '-<hash>'))).toEqual([
      'prod-web-config-<hash>',
      'prod-web',
      'prod-web',
    ]);
  });

  it('reports a kustomize failure with the directory, exit code and stderr', async () => {
    const files = [
      file('app/kustomization.yaml', 'resources: [bad.yaml]\n'),
      file('app/bad.yaml', 'kind: [\n'),
    ];
    const err = await renderError(renderDirectory(files, 'app', { commit: COMMIT }));
    expect(err.message).toMatch(
      new RegExp(
        `^app/kustomization\\.yaml:1:1 \\(commit ${SHORT}\\): (kustomize build|kubectl kustomize) for app exited with code 1; stderr: .*bad\\.yaml`,
      ),
    );
    expect(err.message).not.toContain(tmpdir());
  });
});

describe('command renderer', () => {
  const run = (files: SourceFile[], extra: { maxOutputBytes?: number } = {}) =>
    renderDirectory(files, 'gen', { commit: COMMIT, allowCommands: true, ...extra }).then((r) => [r.file]);

  it('runs argv without a shell, in the directory, and returns its output', async () => {
    const files = [
      declare('gen', 'renderer: command\ncommand: ["./gen.sh", "a b", "$HOME;ls"]\n'),
      script(
        'gen/gen.sh',
        'printf "apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: gen}\\ndata:\\n  arg1: \'%s\'\\n  arg2: \'%s\'\\n" "$1" "$2"',
      ),
    ];
    const out = await run(files);
    const [m] = loadManifests(out, { commit: COMMIT });
    expect(m?.source.file).toBe('gen/<command output>.yaml');
    expect(m?.object['data']).toEqual({ arg1: 'a b', arg2: '$HOME;ls' });
  });

  it('gives the renderer only PATH and a HOME inside its temp directory', async () => {
    process.env['TETHER_TEST_LEAK'] = 'leaked';
    try {
      const files = [
        declare('gen', 'renderer: command\ncommand: ["./env.sh"]\n'),
        script(
          'gen/env.sh',
          'printf "apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: env}\\ndata:\\n  home: \'%s\'\\n  leak: \'%s\'\\n  path: \'%s\'\\n  pwd: \'%s\'\\n" "$HOME" "$TETHER_TEST_LEAK" "$PATH" "$(pwd)"',
        ),
      ];
      const [m] = loadManifests(await run(files), { commit: COMMIT });
      const data = m?.object['data'] as { home: string; leak: string; path: string; pwd: string };
      expect(data.leak).toBe('');
      expect(data.path).toBe(process.env['PATH']);
      expect(data.home.startsWith(join(tmpdir(), 'tether-render-'))).toBe(true);
      expect(data.home.endsWith('/home')).toBe(true);
      expect(data.pwd).toMatch(/\/tether-render-[^/]+\/src\/gen$/);
      // The temp directory is gone afterwards.
      expect(existsSync(data.home)).toBe(false);
    } finally {
      delete process.env['TETHER_TEST_LEAK'];
    }
  });

  it('kills a renderer that times out, with its process group', async () => {
    const files = [
      declare('gen', 'renderer: command\ncommand: ["./slow.sh"]\ntimeoutSeconds: 1\n'),
      script('gen/slow.sh', 'sleep 30 &\nsleep 30'),
    ];
    const started = Date.now();
    const err = await renderError(run(files));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err.message).toBe(
      `gen/tether-render.yaml:1:1 (commit ${SHORT}): ./slow.sh for gen did not finish within 1 s and was killed`,
    );
    expect(err.hint).toMatch(/timeoutSeconds/);
  });

  it('reports a non-zero exit with the last lines of stderr', async () => {
    const files = [
      declare('gen', 'renderer: command\ncommand: ["./fail.sh"]\n'),
      script(
        'gen/fail.sh',
        'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo "line $i" >&2; done\necho "error: values.yaml: bad input" >&2\nexit 3',
      ),
    ];
    const err = await renderError(run(files));
    expect(err.message).toBe(
      `gen/tether-render.yaml:1:1 (commit ${SHORT}): ./fail.sh for gen exited with code 3; stderr: line 4 | line 5 | line 6 | line 7 | line 8 | line 9 | line 10 | line 11 | line 12 | error: values.yaml: bad input`,
    );
  });

  it('reports invalid YAML output at its line in the synthetic file', async () => {
    const files = [
      declare('gen', 'renderer: command\ncommand: ["./bad.sh"]\n'),
      script('gen/bad.sh', 'printf "apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: x\\n"'),
      file('other.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad}\n'),
    ];
    const err = await errorsOfAsync(() =>
      loadManifestsWithRenderers(files, { commit: COMMIT, basePath: '', allowCommands: true }),
    );
    expect(err.errors[0]).toBeInstanceOf(ManifestSyntaxError);
    expect(err.errors[0]?.message).toMatch(
      new RegExp(`^gen/<command output>\\.yaml:4:1 \\(commit ${SHORT}\\): invalid YAML: `),
    );
    // Reported together with the problems of the plain files.
    expect(err.errors.map((e) => e.location.file)).toEqual(['gen/<command output>.yaml', 'other.yaml']);
  });

  it('kills a renderer that prints too much', async () => {
    const files = [declare('gen', 'renderer: command\ncommand: ["yes"]\n')];
    const err = await renderError(run(files, { maxOutputBytes: 10_000 }));
    expect(err.message).toBe(
      `gen/tether-render.yaml:1:1 (commit ${SHORT}): yes for gen printed more than 10000 bytes and was killed`,
    );
  });

  it('is disabled unless the operator allows it', async () => {
    const files = [
      declare('gen', 'renderer: command\ncommand: ["./gen.sh"]\n'),
      script('gen/gen.sh', 'exit 0'),
    ];
    const err = await renderError(renderDirectory(files, 'gen', { commit: COMMIT }));
    expect(err.message).toMatch(/command renderers are disabled/);
  });

  it('reports a program that cannot be started', async () => {
    const files = [declare('gen', 'renderer: command\ncommand: ["./missing.sh"]\n')];
    const err = await renderError(run(files));
    expect(err.message).toMatch(/could not start \.\/missing\.sh for gen: .*(ENOENT|No such file)/);
  });

  it("refuses repository paths with '..' or absolute paths", async () => {
    for (const bad of ['gen/../../etc/passwd', '/etc/passwd', 'gen//x']) {
      const files = [declare('gen', 'renderer: command\ncommand: ["true"]\n'), file(bad, 'x')];
      const err = await renderError(run(files));
      expect(err.message).toContain(`the repository path "${bad}"`);
    }
  });
});

describe('render declarations', () => {
  it.each([
    ['renderer: jsonnet\n', 1, 11],
    ['renderer: command\n', 1, 1],
    ['renderer: kustomize\nextra: 1\n', 2, 1],
    ['renderer: command\ncommand: "./gen.sh --flag"\n', 2, 10],
    ['renderer: kustomize\ntimeoutSeconds: -1\n', 2, 17],
  ])('%j is an error at %i:%i', async (yaml, line, column) => {
    try {
      await renderDirectory([declare('gen', yaml)], 'gen', { commit: COMMIT, allowCommands: true });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RenderDeclarationError);
      expect((e as RenderDeclarationError).location).toEqual({
        file: 'gen/tether-render.yaml',
        line,
        column,
      });
      expect((e as RenderDeclarationError).message).toContain(
        `(commit ${SHORT}): invalid render declaration: `,
      );
    }
  });

  it('prefers tether-render.yaml over a kustomization in the same directory', async () => {
    const files = [
      file('gen/kustomization.yaml', 'resources: []\n'),
      declare('gen', 'renderer: command\ncommand: ["./gen.sh"]\n'),
      script('gen/gen.sh', 'printf "apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: from-command}\\n"'),
    ];
    const manifests = await loadManifestsWithRenderers(files, {
      commit: COMMIT,
      basePath: '.',
      allowCommands: true,
    });
    expect(manifests.map((m) => m.id.name)).toEqual(['from-command']);
  });
});
