import { join, posix } from 'node:path';
import { ManifestError, ManifestErrors, RenderError } from '../manifests/errors.ts';
import { isManifestPath, collectManifests } from '../manifests/load.ts';
import { maskError, secretMasker } from '../manifests/secret-masking.ts';
import { commandArgv } from './command.ts';
import { dirOf, findRenderDirs, readDeclaration } from './declaration.ts';
import type { RenderDeclaration } from './declaration.ts';
import { kustomizeArgv } from './kustomize.ts';
import { materialize, unsafePathReason } from './materialize.ts';
import { runProcess } from './run-process.ts';
import type { LoadOptions, Manifest, SourceFile } from '../manifests/types.ts';

export interface RenderOptions {
  commit: string;
  /** What to render; found in `dir` (tether-render.yaml, else a kustomization) when absent. */
  declaration?: RenderDeclaration;
  /** Default 60 s; a declaration's timeoutSeconds overrides it. */
  timeoutMs?: number;
  /** Default 64 MiB. */
  maxOutputBytes?: number;
  /**
   * Command renderers run programs from the repository: anyone who can push can run code
   * on the agent. Off unless the operator turns it on.
   */
  allowCommands?: boolean;
  /** PATH for the renderer; defaults to the agent's PATH. */
  path?: string;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_OUTPUT = 64 * 1024 * 1024;
const STDERR_LINES = 10;

function isUnder(path: string, dir: string): boolean {
  return dir === '' || path === dir || path.startsWith(`${dir}/`);
}

/** The synthetic file a renderer's output is read as, so errors name the directory and renderer. */
export function renderedFileName(decl: RenderDeclaration): string {
  const name = `<${decl.renderer === 'kustomize' ? 'kustomize' : 'command'} output>.yaml`;
  return decl.dir === '' ? name : `${decl.dir}/${name}`;
}

/**
 * Renders one directory: copies `files` (paths relative to the repository root, so that a
 * kustomization can reach `../base`) into a fresh private temp directory and runs the
 * renderer there with a clean environment (PATH, and HOME in the temp directory), a timeout
 * and an output cap. Returns the output as one synthetic file. Throws RenderError or
 * RenderDeclarationError, with the Secret values of `files` masked (the renderer's stderr
 * quotes what it could not read, a secretGenerator literal for one).
 */
export async function renderDirectory(
  files: SourceFile[],
  dir: string,
  opts: RenderOptions,
): Promise<SourceFile[]> {
  try {
    return await render(files, dir, opts);
  } catch (e) {
    throw maskError(e, secretMasker(files));
  }
}

async function render(files: SourceFile[], dir: string, opts: RenderOptions): Promise<SourceFile[]> {
  const normalizedDir = dir.replace(/^\.\/?/, '').replace(/\/+$/, '');
  let decl = opts.declaration;
  if (!decl) {
    const declaring = findRenderDirs(files.filter((f) => dirOf(f.path) === normalizedDir)).get(normalizedDir);
    if (!declaring) {
      throw new RenderError(
        { file: normalizedDir || '.', line: 1, column: 1 },
        opts.commit,
        `${normalizedDir || '.'} declares no renderer`,
        {
          hint: 'add tether-render.yaml or a kustomization.yaml to the directory',
        },
      );
    }
    decl = readDeclaration(declaring, opts.commit);
  }
  const at = { file: decl.declaredIn, line: 1, column: 1 };
  const dirName = decl.dir || '.';
  const fail = (detail: string, hint: string): never => {
    throw new RenderError(at, opts.commit, detail, { hint });
  };

  if (normalizedDir !== '' && unsafePathReason(normalizedDir))
    fail(`the directory "${dir}" ${unsafePathReason(normalizedDir)}`, 'use a plain relative path');
  for (const file of files) {
    const bad = unsafePathReason(file.path);
    if (bad)
      fail(`the repository path "${file.path}" ${bad}; refusing to render ${dirName}`, 'rename the file');
  }
  if (decl.renderer === 'command' && !opts.allowCommands) {
    fail(
      `${dirName} asks for a command renderer (${decl.command[0] ?? ''}), and command renderers are disabled`,
      'render with kustomize, or let the operator enable command renderers in the Tether config',
    );
  }

  const searchPath = opts.path ?? process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin';
  const timeoutMs =
    decl.timeoutSeconds !== undefined ? decl.timeoutSeconds * 1000 : (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const maxOutput = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;

  let argv: string[];
  let rendererName: string;
  if (decl.renderer === 'kustomize') {
    const found = kustomizeArgv('.', searchPath);
    if (!found) {
      return fail(
        'neither kustomize nor kubectl is installed on the agent',
        'install kubectl (it includes kustomize)',
      );
    }
    argv = found.argv;
    rendererName = found.name;
  } else {
    argv = decl.command;
    rendererName = decl.command.join(' ');
  }
  const cwd = (src: string) => join(src, ...normalizedDir.split('/').filter(Boolean));

  const program = decl.renderer === 'command' ? (decl.command[0] ?? '') : '';
  const programPath = program.includes('/') ? posix.join(normalizedDir, program) : undefined;
  const workspace = await materialize(
    files,
    (f) => ((f.mode ?? 0) & 0o111) !== 0 || f.path === programPath,
  ).catch((e: unknown) =>
    fail(
      `could not copy the repository files for rendering: ${e instanceof Error ? e.message : String(e)}`,
      'check the temp directory',
    ),
  );
  try {
    const workdir = cwd(workspace.src);
    const fullArgv = decl.renderer === 'command' ? commandArgv(argv, workdir) : argv;
    const result = await runProcess(fullArgv, {
      cwd: workdir,
      env: { PATH: searchPath, HOME: workspace.home },
      timeoutMs,
      maxStdoutBytes: maxOutput,
    }).catch((e: unknown) =>
      fail(
        `could not start ${rendererName} for ${dirName}: ${e instanceof Error ? e.message.replaceAll(workspace.src + '/', '') : String(e)}`,
        'check the renderer command and that it is executable',
      ),
    );
    const stderr = lastLines(
      result.stderrTail.replaceAll(workspace.src + '/', '').replaceAll(workspace.src, '.'),
      STDERR_LINES,
    );
    const stderrPart = stderr ? `; stderr: ${stderr}` : '';
    if (result.timedOut) {
      fail(
        `${rendererName} for ${dirName} did not finish within ${timeoutMs / 1000} s and was killed${stderrPart}`,
        'make the renderer faster, or raise timeoutSeconds in tether-render.yaml',
      );
    }
    if (result.stdoutOverflow) {
      fail(
        `${rendererName} for ${dirName} printed more than ${maxOutput} bytes and was killed`,
        'split the app',
      );
    }
    if (result.exitCode !== 0) {
      const how =
        result.exitCode === null
          ? `was killed by ${result.signal ?? 'a signal'}`
          : `exited with code ${result.exitCode}`;
      fail(
        `${rendererName} for ${dirName} ${how}${stderrPart}`,
        `run the renderer locally in ${dirName} to see the problem`,
      );
    }
    return [{ path: renderedFileName(decl), content: new Uint8Array(result.stdout) }];
  } finally {
    await workspace.remove();
  }
}

function lastLines(text: string, n: number): string {
  const lines = text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '');
  return lines.slice(-n).join(' | ');
}

/**
 * Loads an app at `basePath`: directories that declare a renderer (the shallowest ones) are
 * rendered, every other manifest file under basePath is read as it is; files inside a
 * rendered directory are not also read plainly. All files given are copied for rendering,
 * so pass the whole tree if kustomizations reach outside basePath. Every render and
 * manifest error is reported together in one ManifestErrors, with the commit's Secret values
 * masked (a renderer's stderr and YAML errors quote manifest content; see secret-masking.ts).
 */
export async function loadManifestsWithRenderers(
  files: SourceFile[],
  opts: LoadOptions & { basePath: string } & Omit<RenderOptions, 'commit' | 'declaration'>,
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
  const rendered: SourceFile[] = [];
  for (const [dir, file] of renderDirs) {
    try {
      const declaration = readDeclaration(file, opts.commit);
      rendered.push(...(await renderDirectory(files, dir, { ...opts, declaration })));
    } catch (e) {
      if (e instanceof ManifestError) errors.push(e);
      else throw maskError(e, secretMasker([...files, ...rendered]));
    }
  }
  const plain = inApp.filter(
    (f) => isManifestPath(f.path) && !renderDirs.some(([dir]) => isUnder(f.path, dir)),
  );
  const result = collectManifests([...plain, ...rendered], opts, new Set(rendered.map((f) => f.path)));
  errors.push(...result.errors);
  // Renderer output holds the generated Secrets: their values are masked too.
  if (errors.length > 0)
    throw maskError(new ManifestErrors(opts.commit, errors), secretMasker([...files, ...rendered]));
  return result.manifests;
}
