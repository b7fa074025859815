import { ManifestError, ManifestErrors } from '../manifests/errors.ts';
import { collectManifests, isManifestPath } from '../manifests/load.ts';
import { maskError, secretMasker } from '../manifests/secret-masking.ts';
import type { LoadOptions, Manifest, SourceFile } from '../manifests/types.ts';
import { CommitFiles } from './commit-files.ts';
import { findRenderDirs, readDeclaration } from './declaration.ts';
import type { RenderOptions, Rendered } from './options.ts';
import { originAt } from './origin.ts';
import { isUnder, renderDirectory } from './render-directory.ts';

export interface LoadWithRenderersOptions extends LoadOptions, Omit<RenderOptions, 'commit' | 'declaration'> {
  basePath: string;
  /** The commit's whole tree, read on demand, when a directory of the app must be rendered. */
  commitFiles?: () => Promise<CommitFiles>;
}

/**
 * Loads an app at `basePath`: directories that declare a renderer (the shallowest ones) are
 * rendered, every other manifest file under basePath is read as it is; files inside a
 * rendered directory are not also read plainly (a chart's templates are not manifests).
 * Rendered objects name the repository file they came from. Every render and manifest
 * error is reported together in one ManifestErrors, with the commit's Secret values masked
 * (a renderer's stderr and YAML errors quote manifest content; see secret-masking.ts).
 */
export async function loadManifestsWithRenderers(
  files: SourceFile[],
  opts: LoadWithRenderersOptions,
): Promise<Manifest[]> {
  const base = opts.basePath.replace(/^\.\/?/, '').replace(/\/+$/, '');
  const inApp = files.filter((f) => isUnder(f.path, base));
  const candidates = [...findRenderDirs(inApp).entries()].sort(
    ([a], [b]) => a.length - b.length || (a < b ? -1 : 1),
  );
  const renderDirs: [string, SourceFile][] = [];
  for (const [dir, file] of candidates) {
    if (!renderDirs.some(([outer]) => isUnder(dir, outer))) renderDirs.push([dir, file]);
  }

  if (renderDirs.length === 0) return plainOnly(inApp, opts);
  // A copy made here (no shared commitFiles given) goes with this call.
  const own = opts.commitFiles ? undefined : new CommitFiles(opts.commit, files);
  const whole = own ?? (await opts.commitFiles!());
  try {
    const { rendered, errors } = await renderAll(whole, renderDirs, opts);
    const allFiles = () => [...whole.files, ...rendered.map((r) => r.file)];
    const plain = inApp.filter(
      (f) => isManifestPath(f.path) && !renderDirs.some(([dir]) => isUnder(f.path, dir)),
    );
    const renderedFiles = rendered.map((r) => r.file);
    const result = collectManifests(
      [...plain, ...renderedFiles],
      opts,
      new Set(renderedFiles.map((f) => f.path)),
    );
    errors.push(...result.errors);
    // Renderer output holds the generated Secrets: their values are masked too.
    if (errors.length > 0) throw maskError(new ManifestErrors(opts.commit, errors), secretMasker(allFiles()));
    const originsOf = new Map(rendered.map((r) => [r.file.path, r.origins]));
    return result.manifests.map((m) => {
      const origins = originsOf.get(m.source.file);
      const origin = origins && originAt(origins, m.source.line);
      return origin
        ? { ...m, source: { ...m.source, file: origin.file, line: lineIn(whole, origin.file, m), column: 1 } }
        : m;
    });
  } finally {
    own?.dispose();
  }
}

function plainOnly(inApp: SourceFile[], opts: LoadOptions): Manifest[] {
  const result = collectManifests(
    inApp.filter((f) => isManifestPath(f.path)),
    opts,
    new Set(),
  );
  if (result.errors.length > 0)
    throw maskError(new ManifestErrors(opts.commit, result.errors), secretMasker(inApp));
  return result.manifests;
}

/** Renders every directory, collecting the errors of all of them. */
async function renderAll(
  whole: CommitFiles,
  renderDirs: [string, SourceFile][],
  opts: LoadWithRenderersOptions,
): Promise<{ rendered: Rendered[]; errors: ManifestError[] }> {
  const rendered: Rendered[] = [];
  const errors: ManifestError[] = [];
  for (const [dir, file] of renderDirs) {
    try {
      const declaration = readDeclaration(file, opts.commit);
      rendered.push(await renderDirectory(whole, dir, { ...opts, declaration }));
    } catch (e) {
      if (e instanceof ManifestErrors) errors.push(...e.errors);
      else if (e instanceof ManifestError) errors.push(e);
      else throw maskError(e, secretMasker([...whole.files, ...rendered.map((r) => r.file)]));
    }
  }
  return { rendered, errors };
}

/**
 * The line of the object in its source file (a base's document, a template): the document of
 * its kind whose name the rendered name contains (a prefix or suffix may have been added),
 * else the first of its kind, else 1.
 */
function lineIn(whole: CommitFiles, file: string, m: Manifest): number {
  const f = whole.tree.files.get(file);
  if (!f) return 1;
  const lines = new TextDecoder().decode(f.content).split('\n');
  const kind = m.id.kind.replace(/[^A-Za-z0-9]/g, '');
  const kindLine = new RegExp(`^kind:\\s*["']?${kind}["']?\\s*$`);
  let first = 0;
  let docStart = 0;
  for (let i = 0; i < lines.length; i++) {
    if (/^---/.test(lines[i]!)) docStart = i + 1;
    if (!kindLine.test(lines[i]!)) continue;
    first ||= i + 1;
    const end = lines.findIndex((l, j) => j > i && /^---/.test(l));
    const doc = lines.slice(docStart, end === -1 ? undefined : end);
    const name = doc.map((l) => /^ {2}name:\s*["']?([^"'\s#]+)/.exec(l)?.[1]).find((n) => n !== undefined);
    if (name !== undefined && !name.includes('{') && m.id.name.includes(name)) return i + 1;
  }
  return first || 1;
}
