import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadManifests } from '../../../src/manifests/index.ts';
import { CommitFiles, loadManifestsWithRenderers, renderDirectory } from '../../../src/render/index.ts';
import { ORIGIN_ANNOTATION, originAt, stripOrigins, type Origin } from '../../../src/render/origin.ts';
import { findTool } from '../../../src/render/tools.ts';
import { ensureKustomize } from '../../../tools/controlplane/build.ts';
import { COMMIT, file } from '../manifests/helpers.ts';

// An overlay reaching a base and a component elsewhere in the repository, with a generated
// ConfigMap, an object with annotations of its own and objects with none.
const REPO: Record<string, string> = {
  'deploy/overlays/dev/kustomization.yaml': [
    'namePrefix: dev-',
    'resources:',
    '  - ../../bases/web',
    '  - worker.yaml',
    'components: [../../components/labels]',
    'configMapGenerator:',
    '  - name: settings',
    '    literals: [mode=dev]',
    '',
  ].join('\n'),
  'deploy/overlays/dev/worker.yaml': [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: worker',
    '  annotations:',
    '    team.example.com/owner: jobs',
    '    zz.example.com/note: "after the origin, alphabetically"',
    'data: {queue: dev}',
    '',
  ].join('\n'),
  'deploy/bases/web/kustomization.yaml': 'resources: [deployment.yaml, service.yaml]\n',
  'deploy/bases/web/deployment.yaml': [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: web',
    'spec:',
    '  selector: {matchLabels: {app: web}}',
    '  template:',
    '    metadata:',
    '      labels: {app: web}',
    '      annotations: {prometheus.io/scrape: "true"}',
    '    spec:',
    '      containers: [{name: web, image: web:1}]',
    '',
  ].join('\n'),
  'deploy/bases/web/service.yaml': [
    '# The service of the web deployment.',
    'apiVersion: v1',
    'kind: Service',
    'metadata:',
    '  name: web',
    'spec:',
    '  ports: [{port: 80}]',
    '',
  ].join('\n'),
  'deploy/components/labels/kustomization.yaml': [
    'apiVersion: kustomize.config.k8s.io/v1alpha1',
    'kind: Component',
    'labels:',
    '  - pairs: {tier: backend}',
    '',
  ].join('\n'),
};
const OVERLAY = 'deploy/overlays/dev';
const sourceFiles = () => Object.entries(REPO).map(([path, text]) => file(path, text));

let kustomize: string;
let work: string;

beforeAll(async () => {
  kustomize = findTool('kustomize', process.env['PATH'] ?? '')?.path ?? (await ensureKustomize());
  work = mkdtempSync(join(tmpdir(), 'tether-origin-test-'));
  for (const [path, text] of Object.entries(REPO)) {
    const target = join(work, 'src', path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
  mkdirSync(join(work, 'wrapper'));
  writeFileSync(
    join(work, 'wrapper', 'kustomization.yaml'),
    `resources: [../src/${OVERLAY}]\nbuildMetadata: [originAnnotations]\n`,
  );
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const build = (dir: string) =>
  execFileSync(kustomize, ['build', join(work, dir), '--load-restrictor', 'LoadRestrictionsNone'], {
    encoding: 'utf8',
  });

/** Generated ConfigMap names end in a content hash of kustomize's own. */
const unhashed = (name: string) => name.replace(/-[a-z0-9]{10}$/, '-<hash>');

/** kind/name of each document of a YAML stream, with the line it starts on. */
function documents(text: string): { id: string; line: number; object: Record<string, unknown> }[] {
  const lines = text.split('\n');
  const starts = [1, ...lines.flatMap((l, i) => (l === '---' ? [i + 2] : []))];
  return parseAllDocuments(text).map((doc, i) => {
    const object = doc.toJS() as Record<string, unknown>;
    const meta = object['metadata'] as { name: string };
    return { id: `${String(object['kind'])}/${unhashed(meta.name)}`, line: starts[i]!, object };
  });
}

const annotationsOf = (object: Record<string, unknown>) =>
  (object['metadata'] as { annotations?: Record<string, string> }).annotations;

describe('stripOrigins on kustomize output', () => {
  it('removes every origin annotation and leaves exactly what a plain build prints', () => {
    const withOrigins = build('wrapper');
    // The premise: kustomize did annotate every object.
    expect(withOrigins.split(`${ORIGIN_ANNOTATION}:`).length - 1).toBe(4);
    const { text } = stripOrigins(withOrigins, '../src/');
    expect(text).not.toContain(ORIGIN_ANNOTATION);
    expect(text).not.toContain('../src/');
    // Byte for byte what kustomize prints for the overlay itself: nothing else was touched,
    // and an `annotations:` map left empty is gone.
    expect(text).toBe(build(`src/${OVERLAY}`));
  });

  it('keeps the other annotations and drops only the emptied annotations maps', () => {
    const docs = documents(stripOrigins(build('wrapper'), '../src/').text);
    const byId = new Map(docs.map((d) => [d.id, d.object]));
    expect(annotationsOf(byId.get('ConfigMap/dev-worker')!)).toEqual({
      'team.example.com/owner': 'jobs',
      'zz.example.com/note': 'after the origin, alphabetically',
    });
    expect(annotationsOf(byId.get('Service/dev-web')!)).toBeUndefined();
    expect(annotationsOf(byId.get('Deployment/dev-web')!)).toBeUndefined();
    // The pod template's annotations are not kustomize's origin: they stay.
    const template = (byId.get('Deployment/dev-web')!['spec'] as { template: { metadata: unknown } })
      .template;
    expect(template.metadata).toEqual({
      labels: { app: 'web' },
      annotations: { 'prometheus.io/scrape': 'true' },
    });
  });

  it('returns where each document came from, as repository paths', () => {
    const { text, origins } = stripOrigins(build('wrapper'), '../src/');
    const docs = documents(text);
    expect(origins.map((o) => o.line)).toEqual(docs.map((d) => d.line));
    const fileOf = (o: Origin | undefined) => o?.file;
    expect(Object.fromEntries(docs.map((d) => [d.id, fileOf(originAt(origins, d.line))]))).toEqual({
      'ConfigMap/dev-settings-<hash>': `${OVERLAY}/kustomization.yaml`,
      'ConfigMap/dev-worker': `${OVERLAY}/worker.yaml`,
      'Service/dev-web': 'deploy/bases/web/service.yaml',
      'Deployment/dev-web': 'deploy/bases/web/deployment.yaml',
    });
  });

  it('leaves text without origin annotations as it is', () => {
    const plain = build(`src/${OVERLAY}`);
    expect(stripOrigins(plain, '../src/')).toEqual({ text: plain, origins: [] });
  });
});

describe('originAt', () => {
  const origins: Origin[] = [
    { line: 1, file: 'a.yaml' },
    { line: 9, file: 'b.yaml' },
  ];
  it('is the origin of the document a line belongs to', () => {
    expect(originAt(origins, 1)?.file).toBe('a.yaml');
    expect(originAt(origins, 8)?.file).toBe('a.yaml');
    expect(originAt(origins, 9)?.file).toBe('b.yaml');
    expect(originAt(origins, 400)?.file).toBe('b.yaml');
    expect(originAt([{ line: 3, file: 'c.yaml' }], 2)).toBeUndefined();
  });
});

describe('rendered objects name their source file', () => {
  // One materialized copy of the commit for both tests, removed afterwards (a plain file
  // list would leave its copy in the temp directory).
  const commit = new CommitFiles(COMMIT, sourceFiles());
  afterAll(() => commit.dispose());

  it('renderDirectory returns output without origins, and the origins apart', async () => {
    const rendered = await renderDirectory(commit, OVERLAY, { commit: COMMIT });
    const text = new TextDecoder().decode(rendered.file.content);
    expect(text).not.toContain(ORIGIN_ANNOTATION);
    expect(text).toBe(build(`src/${OVERLAY}`));
    expect(rendered.origins.map((o) => o.file)).toEqual([
      `${OVERLAY}/kustomization.yaml`,
      `${OVERLAY}/worker.yaml`,
      'deploy/bases/web/service.yaml',
      'deploy/bases/web/deployment.yaml',
    ]);
    for (const m of loadManifests([rendered.file], { commit: COMMIT }))
      expect(annotationsOf(m.object) ?? {}).not.toHaveProperty(ORIGIN_ANNOTATION);
  });

  it('each Manifest of loadManifestsWithRenderers names the base or overlay file, at its kind', async () => {
    const manifests = await loadManifestsWithRenderers(sourceFiles(), {
      commit: COMMIT,
      basePath: OVERLAY,
      commitFiles: () => Promise.resolve(commit),
    });
    expect(
      manifests.map((m) => `${m.id.kind}/${unhashed(m.id.name)} ${m.source.file}:${m.source.line}`),
    ).toEqual([
      // Generated: named by the kustomization that generates it.
      `ConfigMap/dev-settings-<hash> ${OVERLAY}/kustomization.yaml:1`,
      `ConfigMap/dev-worker ${OVERLAY}/worker.yaml:2`,
      // The Service's file starts with a comment: the line is its kind's.
      'Service/dev-web deploy/bases/web/service.yaml:3',
      'Deployment/dev-web deploy/bases/web/deployment.yaml:2',
    ]);
    for (const m of manifests) expect(annotationsOf(m.object) ?? {}).not.toHaveProperty(ORIGIN_ANNOTATION);
  });
});

describe('stripOrigins leaves values alone', () => {
  it('an origin-like text inside a block scalar is data, not an annotation', () => {
    const output = [
      'apiVersion: v1',
      'data:',
      '  example.yaml: |',
      '    metadata:',
      '      annotations:',
      '        config.kubernetes.io/origin: |',
      '          path: somewhere.yaml',
      '  x.yaml: |',
      '  annotations:',
      '    config.kubernetes.io/origin: |',
      '      path: fake.yaml',
      'kind: ConfigMap',
      'metadata:',
      '  annotations:',
      '    config.kubernetes.io/origin: |',
      '      path: ../src/app/cm.yaml',
      '  name: cm',
      '',
    ].join('\n');
    const { text, origins } = stripOrigins(output, '../src/');
    // Only the object's own annotation went: both block scalars keep every line.
    expect(text).toBe(
      output.replace(
        '  annotations:\n    config.kubernetes.io/origin: |\n      path: ../src/app/cm.yaml\n  name: cm',
        '  name: cm',
      ),
    );
    expect(origins).toEqual([{ line: 1, file: 'app/cm.yaml' }]);
  });
});

describe('a render of files given directly', () => {
  it('leaves no materialized copy behind (it holds the commit, Secrets included)', async () => {
    const before = new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('tether-render-')));
    const files = [
      file('app/kustomization.yaml', 'resources: [s.yaml]\n'),
      file('app/s.yaml', 'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {token: hunter2}\n'),
    ];
    await renderDirectory(files, 'app', { commit: COMMIT });
    await loadManifestsWithRenderers(files, { commit: COMMIT, basePath: 'app' });
    // Other processes may render meanwhile: only a copy of these files counts.
    const after = readdirSync(tmpdir()).filter(
      (n) =>
        n.startsWith('tether-render-') &&
        !before.has(n) &&
        existsSync(join(tmpdir(), n, 'src', 'app', 's.yaml')),
    );
    expect(after).toEqual([]);
  });
});
