import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { stringify } from 'yaml';
import { ManifestError, ManifestErrors, RenderError } from '../manifests/errors.ts';
import { isManifestPath, collectManifests } from '../manifests/load.ts';
import { maskError, secretMasker } from '../manifests/secret-masking.ts';
import type { LoadOptions, Manifest, SourceFile } from '../manifests/types.ts';
import { commandArgv } from './command.ts';
import { CommitFiles } from './commit-files.ts';
import { dirOf, findRenderDirs, readDeclaration, type RenderDeclaration } from './declaration.ts';
import { checkChart, helmArgv, helmEnv, helmSources } from './helm.ts';
import { checkKustomizeRefs, kustomizationIn, type RepoTree } from './kustomize-refs.ts';
import { kustomizeArgv } from './kustomize.ts';
import { materialize } from './materialize.ts';
import { originAt, stripOrigins, type Origin } from './origin.ts';
import { runProcess } from './run-process.ts';
import { sandboxed, sandboxProgram } from './sandbox.ts';
import { findTool } from './tools.ts';

export interface RenderOptions {
  commit: string;
  /** What to render; found in `dir` (tether-render.yaml, a kustomization, a Chart.yaml) when absent. */
  declaration?: RenderDeclaration;
  /** Default 60 s; a declaration's timeoutSeconds overrides it. */
  timeoutMs?: number;
  /** Default 64 MiB. */
  maxOutputBytes?: number;
  /**
   * Command renderers run programs from the repository: anyone who can push can run code
   * on the agent. Off unless the operator turns it on (render.allowCommands).
   */
  allowCommands?: boolean;
  /** kustomize may fetch http(s) and git bases (render.allowRemoteBases); off by default. */
  allowRemoteBases?: boolean;
  /** PATH for the renderer; defaults to the agent's PATH. */
  path?: string;
  /** helm's --namespace: the app's namespace. */
  namespace?: string;
  /** helm's release name when the declaration names none: the app's name. */
  releaseName?: string;
  /** The cluster's version for helm's .Capabilities (asked only when a chart renders). */
  kubeVersion?: () => Promise<string | undefined>;
  /** The app config's inline helm values, laid over everything else. */
  helmValues?: Record<string, unknown>;
}

/** A renderer's output as one synthetic file, and where each of its documents came from. */
export interface Rendered {
  file: SourceFile;
  origins: Origin[];
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_OUTPUT = 64 * 1024 * 1024;
const STDERR_LINES = 10;

let runs = 0;
/** How many renderer processes this process started (benchmarks: a no-change tick starts none). */
export function rendererRuns(): number {
  return runs;
}

function isUnder(path: string, dir: string): boolean {
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
  const unsafe = commit.unsafePath();
  if (unsafe)
    fail(
      `the repository path "${unsafe.path}" ${unsafe.reason}; refusing to render ${dirName}`,
      'rename the file',
    );
  if (decl.renderer === 'command' && !opts.allowCommands) {
    fail(
      `${dirName} asks for a command renderer (${decl.command[0] ?? ''}), and command renderers are disabled`,
      'render with kustomize or helm, or let the operator enable command renderers for this app (render.allowCommands in the Tether config)',
    );
  }
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

  const searchPath = opts.path ?? process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin';
  const timeoutMs =
    decl.timeoutSeconds !== undefined ? decl.timeoutSeconds * 1000 : (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const maxOutput = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;

  // Command renderers may write into their directory: they get a copy of their own.
  const own =
    decl.renderer === 'command'
      ? await materialize(
          commit.files,
          (f) => ((f.mode ?? 0) & 0o111) !== 0 || f.path === programPath(decl),
        ).catch((e: unknown) =>
          fail(`could not copy the repository files for rendering: ${String(e)}`, 'check the temp directory'),
        )
      : undefined;
  try {
    const ws =
      own ??
      (await commit
        .workspace()
        .catch((e: unknown) =>
          fail(`could not copy the repository files for rendering: ${String(e)}`, 'check the temp directory'),
        ));
    const scratch = await ws.scratch();
    const home = join(scratch, 'home');
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
    const bwrap = sandboxProgram();
    const argv = sandboxed(
      job.argv,
      {
        readOnly: [own ? '' : ws.src, job.argv[0] ?? ''].filter(
          (p) => p.startsWith('/') && !p.startsWith(`${ws.src}/`) && existsSync(p),
        ),
        writable: own ? [ws.src, scratch] : [scratch],
        network: decl.renderer === 'kustomize' && (opts.allowRemoteBases ?? false),
        cwd: job.cwd,
      },
      bwrap,
    );
    runs++;
    const result = await runProcess(argv, {
      cwd: job.cwd,
      env: { PATH: searchPath, HOME: home, ...job.env },
      timeoutMs,
      maxStdoutBytes: maxOutput,
    }).catch((e: unknown) =>
      fail(
        `could not start ${job.name} for ${dirName}: ${e instanceof Error ? e.message.replaceAll(ws.src + '/', '') : String(e)}`,
        'check the renderer command and that it is executable',
      ),
    );
    const clean = (t: string) =>
      t
        .replaceAll(ws.src + '/', '')
        .replaceAll(ws.src, '.')
        .replaceAll(scratch + '/', '')
        .replaceAll(relative(scratch, ws.src) + '/', '');
    const stderr = lastLines(clean(result.stderrTail), STDERR_LINES);
    const stderrPart = stderr ? `; stderr: ${stderr}` : '';
    // In the sandbox a program that cannot be started is bwrap's exec failing.
    const execFailed = bwrap && result.exitCode === 1 ? /^bwrap: execvp [^\n]*?: (.*)$/m.exec(stderr) : null;
    if (execFailed)
      fail(
        `could not start ${job.name} for ${dirName}: ${execFailed[1]}`,
        'check the renderer command and that it is executable',
      );
    if (result.timedOut) {
      fail(
        `${job.name} for ${dirName} did not finish within ${timeoutMs / 1000} s and was killed${stderrPart}`,
        'make the renderer faster, or raise timeoutSeconds in tether-render.yaml',
      );
    }
    if (result.stdoutOverflow)
      fail(`${job.name} for ${dirName} printed more than ${maxOutput} bytes and was killed`, 'split the app');
    if (result.exitCode !== 0) {
      const how =
        result.exitCode === null
          ? `was killed by ${result.signal ?? 'a signal'}`
          : `exited with code ${result.exitCode}`;
      fail(
        `${job.name} for ${dirName} ${how}${stderrPart}`,
        `run the renderer locally in ${dirName} to see the problem`,
      );
    }
    const { text, origins } = job.origins(result.stdout.toString('utf8'));
    return { file: { path: renderedFileName(decl), content: new TextEncoder().encode(text) }, origins };
  } finally {
    await own?.remove();
  }
}

function programPath(decl: RenderDeclaration): string | undefined {
  if (decl.renderer !== 'command') return undefined;
  const program = decl.command[0] ?? '';
  return program.includes('/') ? posix.join(decl.dir, program) : undefined;
}

interface Job {
  argv: string[];
  name: string;
  cwd: string;
  env: Record<string, string>;
  origins: (out: string) => { text: string; origins: Origin[] };
}

interface JobContext {
  tree: RepoTree;
  ws: string;
  scratch: string;
  workdir: string;
  searchPath: string;
  opts: RenderOptions;
  fail: (detail: string, hint: string) => never;
}

const noOrigins = (text: string) => ({ text, origins: [] });

async function jobFor(decl: RenderDeclaration, c: JobContext): Promise<Job> {
  switch (decl.renderer) {
    case 'kustomize':
      return kustomizeJob(decl.dir, c);
    case 'helm': {
      const helm = findTool('helm', c.searchPath);
      if (!helm)
        return c.fail(
          'helm is not installed on the agent',
          'put helm on PATH or set TETHER_HELM to its path',
        );
      const valuesFiles = decl.valuesFiles.map((f) => join(c.ws, ...f.split('/')));
      const inline = [decl.values, c.opts.helmValues].filter(
        (v): v is Record<string, unknown> => v !== undefined,
      );
      for (const [i, values] of inline.entries()) {
        const file = join(c.scratch, `values-${i}.yaml`);
        await writeFile(file, stringify(values), { mode: 0o600 });
        valuesFiles.push(file);
      }
      const argv = helmArgv({
        helm: helm.path,
        release: decl.releaseName ?? c.opts.releaseName ?? 'release',
        chartDir: join(c.ws, ...decl.chart.split('/').filter(Boolean)),
        namespace: c.opts.namespace ?? 'default',
        kubeVersion: await c.opts.kubeVersion?.().catch(() => undefined),
        valuesFiles,
        includeCrds: decl.includeCrds,
      });
      return {
        argv,
        name: 'helm template',
        cwd: c.workdir,
        env: helmEnv(join(c.scratch, 'home')),
        origins: (text) => ({ text, origins: helmSources(text, decl.chart) }),
      };
    }
    case 'command':
      return {
        argv: commandArgv(decl.command, c.workdir),
        name: decl.command.join(' '),
        cwd: c.workdir,
        env: {},
        origins: noOrigins,
      };
  }
}

/**
 * kustomize build of `dir` through a wrapper kustomization in the scratch directory that
 * asks for origin annotations (unless the kustomization is a Component, which cannot be a
 * resource, or asks for them itself, in which case they stay).
 */
async function kustomizeJob(dir: string, c: JobContext): Promise<Job> {
  const found = kustomizeArgv('.', c.searchPath);
  if (!found)
    return c.fail(
      'neither kustomize nor kubectl is installed on the agent',
      'install kustomize or kubectl (it includes kustomize)',
    );
  const own = kustomizationIn(c.tree, dir);
  const text = own ? new TextDecoder().decode(own.content) : '';
  if (/^kind:\s*Component\s*$/m.test(text) || text.includes('originAnnotations'))
    return { argv: found.argv, name: found.name, cwd: c.workdir, env: {}, origins: noOrigins };
  const wrapper = join(c.scratch, 'wrapper');
  const target = relative(wrapper, c.workdir);
  await writeFileDeep(
    join(wrapper, 'kustomization.yaml'),
    stringify({ resources: [target], buildMetadata: ['originAnnotations'] }),
  );
  const prefix = `${relative(wrapper, c.ws)}/`;
  return {
    argv: found.argv,
    name: found.name,
    cwd: wrapper,
    env: {},
    origins: (text) => stripOrigins(text, prefix),
  };
}

async function writeFileDeep(file: string, content: string): Promise<void> {
  await mkdir(posix.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, content, { mode: 0o600 });
}

function lastLines(text: string, n: number): string {
  const lines = text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '');
  return lines.slice(-n).join(' | ');
}

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
