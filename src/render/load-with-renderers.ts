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

  const errors: ManifestError[] = [];
  const rendered: Rendered[] = [];
  const whole =
    renderDirs.length > 0 ? await (opts.commitFiles?.() ?? new CommitFiles(opts.commit, files)) : undefined;
  const allFiles = () => [...(whole?.files ?? files), ...rendered.map((r) => r.file)];
  for (const [dir, file] of renderDirs) {
    try {
      const declaration = readDeclaration(file, opts.commit);
      rendered.push(await renderDirectory(whole!, dir, { ...opts, declaration }));
    } catch (e) {
      if (e instanceof ManifestErrors) errors.push(...e.errors);
      else if (e instanceof ManifestError) errors.push(e);
      else throw maskError(e, secretMasker(allFiles()));
    }
  }
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
}

/** The line of the object's kind in its source file (templates and bases are not rendered output). */
function lineIn(whole: CommitFiles | undefined, file: string, m: Manifest): number {
  const f = whole?.tree.files.get(file);
  if (!f) return 1;
  const lines = new TextDecoder().decode(f.content).split('\n');
  const kind = m.id.kind.replace(/[^A-Za-z0-9]/g, '');
  const i = lines.findIndex((l) => new RegExp(`^kind:\\s*["']?${kind}["']?\\s*$`).test(l));
  return i === -1 ? 1 : i + 1;
}
