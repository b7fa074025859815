/**
 * What a kustomization may reach, checked before kustomize runs. kustomize itself keeps a
 * kustomization's files inside its root, but follows resources, bases and components to any
 * directory on the machine and fetches URLs; here every reference of every kustomization the
 * app reaches must name a file or directory of the commit, and a remote one (http, https,
 * git, `github.com/org/repo//dir?ref=v1`) is refused unless the app allows remote bases.
 * Pure: it takes the commit's files and returns the problems, each with file:line.
 */
import { posix } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Node, Pair } from 'yaml';
import { decodeUtf8 } from '../manifests/decode.ts';
import { RenderReferenceError } from '../manifests/errors.ts';
import type { SourceFile } from '../manifests/types.ts';
import { KUSTOMIZATION_FILES } from './declaration.ts';

export interface RepoTree {
  files: ReadonlyMap<string, SourceFile>;
  /** Every directory that holds a file ('' is the root). */
  dirs: ReadonlySet<string>;
}

export function repoTree(files: readonly SourceFile[]): RepoTree {
  const map = new Map<string, SourceFile>();
  const dirs = new Set<string>(['']);
  for (const f of files) {
    map.set(f.path, f);
    let d = f.path;
    while (d.includes('/')) {
      d = d.slice(0, d.lastIndexOf('/'));
      dirs.add(d);
    }
  }
  return { files: map, dirs };
}

export interface RefCheckOptions {
  commit: string;
  allowRemote: boolean;
}

/** How kustomize reads a field's value: a directory or file to follow, or a file only. */
type RefKind = 'resource' | 'file';

interface Ref {
  value: string;
  kind: RefKind;
  line: number;
  column: number;
  field: string;
  /** kustomize's helmCharts and friends: refused whatever they say. */
  helm?: boolean;
}

// What kustomize fetches: a URL (http, https, git, ssh), an scp-like git remote, or
// `host.tld/org/repo//dir?ref=v1`. A `file://` URL is not remote: it reads the machine.
const URL_LIKE = /^(?:[a-z][a-z0-9+.-]*:\/\/|git@)/i;
const HOST_LIKE = /^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?::\d+)?\//i;
const FILE_URL = /^file:/i;

/** True for what kustomize would fetch: URLs, scp-like git remotes, `host.tld/org/repo`. */
export function isRemoteReference(value: string): boolean {
  return !FILE_URL.test(value) && (URL_LIKE.test(value) || HOST_LIKE.test(value));
}

export function kustomizationIn(tree: RepoTree, dir: string): SourceFile | undefined {
  for (const name of KUSTOMIZATION_FILES) {
    const f = tree.files.get(dir === '' ? name : `${dir}/${name}`);
    if (f) return f;
  }
  return undefined;
}

type Problem = { what: string; why: keyof typeof HINTS };

const HINTS = {
  remote:
    'vendor the base into the repository, or allow remote bases for this app in the Tether config (render.allowRemoteBases)',
  outside: 'keep every base, component and file inside the repository',
  helm: 'declare the chart with a tether-render.yaml {renderer: helm} instead of kustomize helmCharts',
  missing: 'fix the path (it is relative to the kustomization) and push a new commit',
};

/**
 * Checks the kustomization in `dir` and every kustomization it reaches. Returns the problems
 * found (empty when kustomize may run).
 */
export function checkKustomizeRefs(
  tree: RepoTree,
  dir: string,
  opts: RefCheckOptions,
): RenderReferenceError[] {
  const errors: RenderReferenceError[] = [];
  const seen = new Set<string>();
  const visit = (kdir: string): void => {
    if (seen.has(kdir)) return;
    seen.add(kdir);
    const file = kustomizationIn(tree, kdir);
    if (!file) return;
    for (const ref of referencesOf(file)) {
      const verdict = judge(tree, kdir, ref, opts);
      if ('what' in verdict) {
        const at = { file: file.path, line: ref.line, column: ref.column };
        errors.push(new RenderReferenceError(at, opts.commit, verdict.what, { hint: HINTS[verdict.why] }));
      } else if (verdict.follow !== undefined) visit(verdict.follow);
    }
  };
  visit(dir);
  return errors;
}

/** A problem, or fine (with a directory whose kustomization must be checked too). */
function judge(tree: RepoTree, kdir: string, ref: Ref, opts: RefCheckOptions): Problem | { follow?: string } {
  const { field } = ref;
  if (ref.helm)
    return {
      what: `${field}: kustomize's helm inflation is refused (it runs helm and fetches charts)`,
      why: 'helm',
    };
  // Generator files may be written `key=path`.
  const value = (ref.kind === 'file' ? ref.value.replace(/^[^=/]*=/, '') : ref.value).trim();
  if (value === '') return { what: `${field}: an empty path`, why: 'missing' };
  if (FILE_URL.test(value))
    return { what: `${field}: ${value} reads the machine's files, outside the repository`, why: 'outside' };
  if (value.startsWith('/'))
    return { what: `${field}: ${value} is an absolute path, which leaves the repository`, why: 'outside' };
  const target = posix.normalize(posix.join(kdir, value)).replace(/\/$/, '');
  const path = target === '.' ? '' : target;
  // A path of the commit is local even where it looks like `host.tld/dir`.
  const local = tree.files.has(path) || tree.dirs.has(path);
  if (!local && isRemoteReference(value)) {
    if (opts.allowRemote) return {};
    return {
      what: `${field}: remote ${value} is refused: this app does not allow remote bases`,
      why: 'remote',
    };
  }
  if (path === '..' || path.startsWith('../'))
    return {
      what: `${field}: ${value} leaves the repository (it resolves outside its root)`,
      why: 'outside',
    };
  if (tree.files.has(path)) return {};
  if (tree.dirs.has(path))
    return ref.kind === 'resource'
      ? { follow: path }
      : { what: `${field}: ${value} is a directory, a file was expected`, why: 'missing' };
  return { what: `${field}: ${value} does not exist in the commit`, why: 'missing' };
}

interface Field {
  key: string;
  kind: RefKind;
  /** Inside a list of mappings: the keys of each item that hold paths. */
  itemKeys?: { key: string; kind: RefKind; list: boolean }[];
}

// The kustomization fields that name files or directories (kustomize v5).
const FIELDS: Field[] = [
  { key: 'resources', kind: 'resource' },
  { key: 'bases', kind: 'resource' },
  { key: 'components', kind: 'resource' },
  { key: 'crds', kind: 'file' },
  { key: 'configurations', kind: 'file' },
  { key: 'patchesStrategicMerge', kind: 'file' },
  { key: 'generators', kind: 'resource' },
  { key: 'transformers', kind: 'resource' },
  { key: 'validators', kind: 'resource' },
  { key: 'patches', kind: 'file', itemKeys: [{ key: 'path', kind: 'file', list: false }] },
  { key: 'patchesJson6902', kind: 'file', itemKeys: [{ key: 'path', kind: 'file', list: false }] },
  { key: 'replacements', kind: 'file', itemKeys: [{ key: 'path', kind: 'file', list: false }] },
  {
    key: 'configMapGenerator',
    kind: 'file',
    itemKeys: [
      { key: 'files', kind: 'file', list: true },
      { key: 'envs', kind: 'file', list: true },
      { key: 'env', kind: 'file', list: false },
    ],
  },
  {
    key: 'secretGenerator',
    kind: 'file',
    itemKeys: [
      { key: 'files', kind: 'file', list: true },
      { key: 'envs', kind: 'file', list: true },
      { key: 'env', kind: 'file', list: false },
    ],
  },
];

/** Every path a kustomization names, with its line; inline patches and plugin configs are skipped. */
function referencesOf(file: SourceFile): Ref[] {
  const decoded = decodeUtf8(file.content);
  if ('badOffset' in decoded) return [];
  const lc = new LineCounter();
  const doc = parseDocument(decoded.text, { lineCounter: lc, uniqueKeys: false });
  if (!isMap(doc.contents)) return [];
  const refs: Ref[] = [];
  const at = (node: Node | null | undefined) => lc.linePos(node?.range?.[0] ?? 0);
  const push = (node: unknown, kind: RefKind, field: string) => {
    // Multi-line strings are inline patches or plugin configs, not paths.
    if (!isScalar(node) || typeof node.value !== 'string' || node.value.includes('\n')) return;
    const { line, col } = at(node);
    refs.push({ value: node.value, kind, line, column: col, field });
  };
  const pairs = doc.contents.items as Pair[];
  for (const pair of pairs) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (key === 'helmCharts' || key === 'helmGlobals' || key === 'helmChartInflationGenerator') {
      const { line, col } = at(pair.key as Node);
      refs.push({ value: '', kind: 'resource', line, column: col, field: key, helm: true });
      continue;
    }
    if (key === 'openapi' && isMap(pair.value)) {
      push(pair.value.get('path', true), 'file', 'openapi.path');
      continue;
    }
    const field = FIELDS.find((f) => f.key === key);
    if (!field || !isSeq(pair.value)) continue;
    for (const item of pair.value.items) {
      if (!field.itemKeys) {
        push(item, field.kind, key);
        continue;
      }
      if (!isMap(item)) {
        push(item, field.kind, key); // patchesStrategicMerge-style string entries
        continue;
      }
      for (const ik of field.itemKeys) {
        const v = item.get(ik.key, true);
        if (ik.list && isSeq(v)) for (const x of v.items) push(x, ik.kind, `${key}.${ik.key}`);
        else if (!ik.list) push(v, ik.kind, `${key}.${ik.key}`);
      }
    }
  }
  return refs;
}
