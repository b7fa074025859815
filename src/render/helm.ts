/**
 * Helm charts kept in the repository, rendered with `helm template`. What is checked before
 * helm runs (pure): the chart and values files lie inside the repository, and every
 * dependency of Chart.yaml is vendored under charts/ (helm would otherwise say little, and
 * must never fetch one). Then the argv, and where each rendered object came from.
 */
import { posix } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { decodeUtf8 } from '../manifests/decode.ts';
import { RenderReferenceError } from '../manifests/errors.ts';
import type { HelmDeclaration } from './declaration.ts';
import { CHART_FILE } from './declaration.ts';
import type { RepoTree } from './kustomize-refs.ts';

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const outside = (p: string) => p === '..' || p.startsWith('../') || p.startsWith('/');

/** Problems of a helm declaration in this commit (empty when helm may run). */
export function checkChart(tree: RepoTree, decl: HelmDeclaration, commit: string): RenderReferenceError[] {
  const at = { file: decl.declaredIn, line: 1, column: 1 };
  const fail = (detail: string, hint: string, where = at) =>
    new RenderReferenceError(where, commit, detail, { hint });
  if (outside(decl.chart))
    return [fail(`the chart ${decl.chart} leaves the repository`, 'keep the chart inside the repository')];
  const chartFile = tree.files.get(decl.chart === '' ? CHART_FILE : `${decl.chart}/${CHART_FILE}`);
  if (!chartFile)
    return [
      fail(
        `no chart at ${decl.chart || '.'}: ${CHART_FILE} is missing`,
        'point `chart` at a directory holding Chart.yaml (relative to tether-render.yaml)',
      ),
    ];
  const errors: RenderReferenceError[] = [];
  for (const v of decl.valuesFiles) {
    if (outside(v))
      errors.push(fail(`values file ${v} leaves the repository`, 'keep values files in the repository'));
    else if (!tree.files.has(v))
      errors.push(
        fail(
          `values file ${v} does not exist in the commit`,
          'fix valuesFiles (paths are relative to tether-render.yaml)',
        ),
      );
  }
  errors.push(...unvendored(tree, decl.chart, chartFile.path, chartFile.content, commit));
  return errors;
}

/** Each dependency of Chart.yaml that is neither charts/<name>/ nor charts/<name>-<version>.tgz. */
function unvendored(
  tree: RepoTree,
  chart: string,
  file: string,
  content: Uint8Array,
  commit: string,
): RenderReferenceError[] {
  const decoded = decodeUtf8(content);
  if ('badOffset' in decoded) return [];
  const lc = new LineCounter();
  const doc = parseDocument(decoded.text, { lineCounter: lc, uniqueKeys: false });
  if (!isMap(doc.contents)) return [];
  const deps = doc.contents.get('dependencies', true);
  if (!isSeq(deps)) return [];
  const chartsDir = chart === '' ? 'charts' : `${chart}/charts`;
  const errors: RenderReferenceError[] = [];
  for (const dep of deps.items) {
    if (!isMap(dep)) continue;
    const nameNode = dep.get('name', true);
    if (!isScalar(nameNode) || typeof nameNode.value !== 'string') continue;
    const name = nameNode.value;
    const vendoredDir = tree.files.has(`${chartsDir}/${name}/${CHART_FILE}`);
    // `helm dependency build` writes charts/<name>-<version>.tgz; the version starts with a
    // digit, so `common` is not vendored by common-lib-0.3.0.tgz.
    const tgz = new RegExp(`^${escapeRegExp(chartsDir)}/${escapeRegExp(name)}-\\d[^/]*\\.tgz$`);
    const vendoredTgz = [...tree.files.keys()].some((p) => tgz.test(p));
    if (vendoredDir || vendoredTgz) continue;
    const repo = dep.get('repository');
    const { line, col } = lc.linePos(nameNode.range?.[0] ?? 0);
    errors.push(
      new RenderReferenceError(
        { file, line, column: col },
        commit,
        `chart dependency ${name}${typeof repo === 'string' && repo ? ` (${repo})` : ''} is not vendored under ${chartsDir}/`,
        {
          hint: `run \`helm dependency build ${chart || '.'}\` and commit ${chartsDir}/: Tether never fetches charts`,
        },
      ),
    );
  }
  return errors;
}

export interface HelmRun {
  helm: string;
  release: string;
  /** The chart directory in the workspace. */
  chartDir: string;
  namespace: string;
  kubeVersion?: string | undefined;
  /** Workspace paths of values files, in order; later ones win. */
  valuesFiles: string[];
  includeCrds: boolean;
}

/** argv of `helm template`: no repositories, no plugins, the cluster's version when known. */
export function helmArgv(r: HelmRun): string[] {
  return [
    r.helm,
    'template',
    r.release,
    r.chartDir,
    '--namespace',
    r.namespace,
    ...(r.includeCrds ? ['--include-crds'] : []),
    // Test pods run on `helm test`, never on an install: they are not part of the release.
    '--skip-tests',
    ...(r.kubeVersion ? ['--kube-version', r.kubeVersion] : []),
    ...r.valuesFiles.flatMap((f) => ['--values', f]),
  ];
}

/** Helm's own directories inside the renderer's HOME, so no user config or plugin is read. */
export function helmEnv(home: string): Record<string, string> {
  return {
    HELM_CACHE_HOME: posix.join(home, '.cache', 'helm'),
    HELM_CONFIG_HOME: posix.join(home, '.config', 'helm'),
    HELM_DATA_HOME: posix.join(home, '.local', 'share', 'helm'),
    HELM_PLUGINS: posix.join(home, 'helm-plugins'),
  };
}

/**
 * Where each document of helm's output came from: helm writes `# Source: <chart>/templates/x.yaml`
 * before each one; the first segment is the chart's name, the rest is inside the chart dir.
 * Keyed by the 1-based line the document's comment is on.
 */
export function helmSources(output: string, chart: string): { line: number; file: string }[] {
  const found: { line: number; file: string }[] = [];
  const lines = output.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^# Source: ([^/\s]+)\/(.+?)\s*$/.exec(lines[i]!);
    if (m) found.push({ line: i + 1, file: chart === '' ? m[2]! : `${chart}/${m[2]!}` });
  }
  return found;
}
