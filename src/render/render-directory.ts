import { join } from 'node:path';
import { ManifestErrors, RenderError } from '../manifests/errors.ts';
import { maskError, secretMasker } from '../manifests/secret-masking.ts';
import type { SourceFile } from '../manifests/types.ts';
import { CommitFiles } from './commit-files.ts';
import { dirOf, findRenderDirs, readDeclaration, type RenderDeclaration } from './declaration.ts';
import { checkChart } from './helm.ts';
import { jobFor, programPath } from './jobs.ts';
import { checkKustomizeRefs } from './kustomize-refs.ts';
import { materialize } from './materialize.ts';
import type { RenderOptions, Rendered } from './options.ts';
import { runJob } from './run-job.ts';

export type { RenderOptions, Rendered } from './options.ts';
export { rendererRuns } from './run-job.ts';

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_OUTPUT = 64 * 1024 * 1024;

export function isUnder(path: string, dir: string): boolean {
  return dir === '' || path === dir || path.startsWith(`${dir}/`);
}

/** The synthetic file a renderer's output is read as, so errors name the directory and renderer. */
export function renderedFileName(decl: RenderDeclaration): string {
  const name = `<${decl.renderer === 'command' ? 'command' : decl.renderer} output>.yaml`;
  return decl.dir === '' ? name : `${decl.dir}/${name}`;
}

/**
 * Renders one directory of a commit. `files` is the commit's whole tree (so a kustomization
 * can reach `../../bases` and a chart its values files), checked first: a reference leaving
 * the repository, a remote base the app does not allow or a dependency that is not vendored
 * is refused before any renderer starts. The renderer then runs over the commit's files
 * materialized once (see commit-files.ts), in the sandbox where the machine has one, with a
 * clean environment, a timeout and an output cap. Throws RenderError or
 * RenderReferenceError with the commit's Secret values masked.
 */
export async function renderDirectory(
  files: readonly SourceFile[] | CommitFiles,
  dir: string,
  opts: RenderOptions,
): Promise<Rendered> {
  const commit = files instanceof CommitFiles ? files : new CommitFiles(opts.commit, files);
  try {
    return await render(commit, dir, opts);
  } catch (e) {
    throw maskError(e, secretMasker(commit.files as SourceFile[]));
  } finally {
    // A copy made for this call alone goes with it (the commit's Secrets are in it).
    if (commit !== files) commit.dispose();
  }
}

function declarationOf(commit: CommitFiles, dir: string, opts: RenderOptions): RenderDeclaration {
  if (opts.declaration) return opts.declaration;
  const declaring = findRenderDirs(commit.files.filter((f) => dirOf(f.path) === dir)).get(dir);
  if (!declaring) {
    throw new RenderError(
      { file: dir || '.', line: 1, column: 1 },
      opts.commit,
      `${dir || '.'} declares no renderer`,
      {
        hint: 'add tether-render.yaml, a kustomization.yaml or a Chart.yaml to the directory',
      },
    );
  }
  return readDeclaration(declaring, opts.commit);
}

async function render(commit: CommitFiles, rawDir: string, opts: RenderOptions): Promise<Rendered> {
  const dir = rawDir.replace(/^\.\/?/, '').replace(/\/+$/, '');
  const decl = declarationOf(commit, dir, opts);
  const dirName = decl.dir || '.';
  const fail = (detail: string, hint: string): never => {
    throw new RenderError({ file: decl.declaredIn, line: 1, column: 1 }, opts.commit, detail, { hint });
  };
  refuseEarly(commit, decl, opts, fail);
  const copyFailed = (e: unknown) =>
    fail(`could not copy the repository files for rendering: ${String(e)}`, 'check the temp directory');
  // Command renderers may write into their directory: they get a copy of their own.
  const own =
    decl.renderer === 'command'
      ? await materialize(
          commit.files,
          (f) => ((f.mode ?? 0) & 0o111) !== 0 || f.path === programPath(decl),
        ).catch(copyFailed)
      : undefined;
  try {
    const ws = own ?? (await commit.workspace().catch(copyFailed));
    const scratch = await ws.scratch();
    const searchPath = opts.path ?? process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin';
    const workdir = join(ws.src, ...decl.dir.split('/').filter(Boolean));
    const job = await jobFor(decl, {
      tree: commit.tree,
      ws: ws.src,
      scratch,
      workdir,
      searchPath,
      opts,
      fail,
    });
    const stdout = await runJob(job, {
      src: ws.src,
      scratch,
      ownCopy: own !== undefined,
      network: decl.renderer === 'kustomize' && (opts.allowRemoteBases ?? false),
      searchPath,
      timeoutMs:
        decl.timeoutSeconds !== undefined
          ? decl.timeoutSeconds * 1000
          : (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      maxOutput: opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT,
      dirName,
      fail,
    });
    const { text, origins } = job.origins(stdout);
    return { file: { path: renderedFileName(decl), content: new TextEncoder().encode(text) }, origins };
  } finally {
    await own?.remove();
  }
}

/**
 * What is refused before anything is copied or started: unsafe repository paths, command
 * renderers the app does not allow, and every reference check of the renderer.
 */
function refuseEarly(
  commit: CommitFiles,
  decl: RenderDeclaration,
  opts: RenderOptions,
  fail: (detail: string, hint: string) => never,
): void {
  const dirName = decl.dir || '.';
  const unsafe = commit.unsafePath();
  if (unsafe)
    fail(
      `the repository path "${unsafe.path}" ${unsafe.reason}; refusing to render ${dirName}`,
      'rename the file',
    );
  if (decl.renderer === 'command' && !opts.allowCommands)
    fail(
      `${dirName} asks for a command renderer (${decl.command[0] ?? ''}), and command renderers are disabled`,
      'render with kustomize or helm, or let the operator enable command renderers for this app (render.allowCommands in the Tether config)',
    );
  const refErrors =
    decl.renderer === 'kustomize'
      ? checkKustomizeRefs(commit.tree, decl.dir, {
          commit: opts.commit,
          allowRemote: opts.allowRemoteBases ?? false,
        })
      : decl.renderer === 'helm'
        ? checkChart(commit.tree, decl, opts.commit)
        : [];
  if (refErrors.length > 0) throw new ManifestErrors(opts.commit, refErrors);
}
