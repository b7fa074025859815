/**
 * Rendering: Tether's render step against the renderer run by hand, on the two fixture
 * repositories (test/fixtures/repos), each copied into a temporary git repository and read
 * back through the source layer as the agent reads it:
 *
 *   node bench/render.ts [--runs 9] [--out DIR]
 *
 * - overlays: the kustomize overlay deploy/overlays/dev (bases, a component and a shared patch
 *   elsewhere in the repository), against `kustomize build --load-restrictor
 *   LoadRestrictionsNone deploy/overlays/dev` in a checkout;
 * - chart: the app path envs/dev (tether-render.yaml naming ../../charts/web and a values
 *   file), against `helm template rel charts/web -f envs/dev/values.yaml --include-crds
 *   --skip-tests`.
 *
 * Tether's step is loadManifestsWithRenderers over the commit's files: the reference checks,
 * the renderer in its sandbox (bubblewrap where the machine has it), origin stripping,
 * parsing and validation. Measured warm (the commit's tree already materialized, as for
 * every app after the first on a commit, and for a re-render), cold (a fresh materialized
 * copy of the commit each time) and warm without the sandbox (TETHER_RENDER_SANDBOX=off),
 * in turns with the direct command, median of --runs each.
 *
 * Then what a repeated load of the same commit costs, counted in renderer processes
 * (rendererRuns()): loadCommit of src/sync/pipeline.ts twice, and the agent's AppRunner
 * current() for an unchanged poll, which returns the commit in force without loading it.
 *
 * Not part of `npm run bench` (bench/run.ts needs the control plane; this does not). Results
 * go to bench/results/<date>-<cores>c<GiB>g-<host>-render.json.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Connection } from '../src/sync/pipeline.ts';
import { AppRunner, type AppRunnerDeps } from '../src/agent/app-runner.ts';
import type { ResourceInfo } from '../src/cluster/discovery.ts';
import { loadManifests, type Manifest } from '../src/manifests/index.ts';
import { CommitFiles, loadManifestsWithRenderers, rendererRuns } from '../src/render/index.ts';
import { sandboxProgram } from '../src/render/sandbox.ts';
import { findTool } from '../src/render/tools.ts';
import { readSnapshot, type PollResult } from '../src/source/index.ts';
import type { App } from '../src/sync/app.ts';
import { DEFAULT_SETTINGS } from '../src/sync/execute.ts';
import { loadCommit } from '../src/sync/pipeline.ts';
import { ensureHelm, ensureKustomize } from '../tools/controlplane/build.ts';
import { median, repoRoot } from './lib.ts';

export interface RenderCase {
  name: string;
  renderer: 'kustomize' | 'helm';
  appPath: string;
  direct: string;
  objects: number;
  /** Tether's objects equal the direct command's (kind, name, content). */
  sameObjects: boolean;
  directMs: number;
  tetherWarmMs: number;
  tetherColdMs: number;
  tetherUnsandboxedMs: number;
  warmRatio: number;
  coldRatio: number;
  /** Renderer processes started by each of two loadCommit calls for the same commit. */
  loadCommitRuns: [number, number];
  /** Renderer processes started by the agent's current() on the new commit, then on an unchanged poll. */
  agentRuns: { newCommit: number; unchangedPoll: number };
  agentUnchangedPollMs: number;
}

export interface RenderFigures {
  date: string;
  runs: number;
  machine: Record<string, string | number>;
  sandbox: string;
  cases: RenderCase[];
  notes: string[];
}

const CASES = [
  {
    name: 'overlays',
    renderer: 'kustomize' as const,
    appPath: 'deploy/overlays/dev',
    direct: (tool: string) => [
      tool,
      'build',
      '--load-restrictor',
      'LoadRestrictionsNone',
      'deploy/overlays/dev',
    ],
  },
  {
    name: 'chart',
    renderer: 'helm' as const,
    appPath: 'envs/dev',
    direct: (tool: string) => [
      tool,
      'template',
      'rel',
      'charts/web',
      '-f',
      'envs/dev/values.yaml',
      '--include-crds',
      '--skip-tests',
    ],
  },
];

function run(argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** The fixture as a one-commit git repository in a temporary directory. */
function gitRepo(fixture: string, into: string): { dir: string; sha: string } {
  const dir = join(into, fixture);
  cpSync(join(repoRoot, 'test', 'fixtures', 'repos', fixture), dir, { recursive: true });
  const git = (...args: string[]) =>
    run(['git', '-c', 'user.name=Bench', '-c', 'user.email=bench@example.com', ...args], dir, {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: '1',
    });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', `fixture ${fixture}`);
  return { dir, sha: git('rev-parse', 'HEAD').trim() };
}

/** An app of the repository; the source layer's bare cache goes to the temporary directory. */
function appFor(name: string, repo: string, path: string, cacheDir: string): App {
  return {
    name: `bench-${name}`,
    sourceId: `${repo}//${path}`,
    source: { repo, ref: 'main', verify: { mode: 'off' }, cacheDir },
    path,
    intervalMs: 60_000,
    destination: { namespace: 'default' },
    mode: 'report',
    settings: DEFAULT_SETTINGS,
    suspend: false,
    render: { allowCommands: false, allowRemoteBases: false },
  };
}

/** Discovery as far as planning needs it: every kind served, CRDs cluster-scoped. */
const offlineConnection = {
  discovery: {
    cached: (group: string, version: string, kind: string): ResourceInfo => ({
      group,
      version,
      kind,
      resource: `${kind.toLowerCase()}s`,
      namespaced: kind !== 'CustomResourceDefinition' && kind !== 'Namespace',
      verbs: [],
    }),
    serverVersion: () => Promise.resolve(undefined),
  },
} as unknown as Connection;

const quiet = {
  info: () => undefined,
  error: () => undefined,
  warn: () => undefined,
  debug: () => undefined,
};

/** kind/namespace/name and content of each object, for comparing two renders. */
function objectsOf(manifests: Manifest[]): string[] {
  return manifests
    .map((m) => `${m.id.kind}/${m.id.namespace}/${m.id.name} ${JSON.stringify(m.object)}`)
    .sort();
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function measureCase(c: (typeof CASES)[number], work: string, runs: number): Promise<RenderCase> {
  const tool =
    findTool(c.renderer, process.env['PATH'] ?? '')?.path ??
    (c.renderer === 'helm' ? await ensureHelm() : await ensureKustomize());
  const { dir, sha } = gitRepo(c.name, work);
  const app = appFor(c.name, dir, c.appPath, join(work, 'git-cache'));
  const snapshot = await readSnapshot(app.source, { sha, path: c.appPath });
  const whole = (await readSnapshot(app.source, { sha, lenient: true })).files;
  const argv = c.direct(tool);
  const load = (commitFiles: CommitFiles) =>
    loadManifestsWithRenderers(snapshot.files, {
      commit: sha,
      basePath: c.appPath,
      commitFiles: () => Promise.resolve(commitFiles),
      namespace: 'default',
      releaseName: 'rel',
    });

  // The same objects both ways (Tether's carry its origin lines; the content must match).
  const shared = new CommitFiles(sha, whole);
  const ours = await load(shared);
  const theirs = loadManifests([{ path: 'direct.yaml', content: Buffer.from(run(argv, dir)) }], {
    commit: sha,
  });
  const sameObjects = JSON.stringify(objectsOf(ours)) === JSON.stringify(objectsOf(theirs));

  // One untimed round first: module loading, JIT and the file cache weigh on no figure.
  run(argv, dir);
  process.env['TETHER_RENDER_SANDBOX'] = 'off';
  await load(shared).finally(() => delete process.env['TETHER_RENDER_SANDBOX']);
  const direct: number[] = [];
  const warm: number[] = [];
  const cold: number[] = [];
  const unsandboxed: number[] = [];
  for (let i = 0; i < runs; i++) {
    direct.push(await timed(() => Promise.resolve(run(argv, dir))));
    warm.push(await timed(() => load(shared)));
    const fresh = new CommitFiles(sha, whole);
    cold.push(await timed(() => load(fresh)));
    fresh.dispose();
    process.env['TETHER_RENDER_SANDBOX'] = 'off';
    try {
      unsandboxed.push(await timed(() => load(shared)));
    } finally {
      delete process.env['TETHER_RENDER_SANDBOX'];
    }
  }
  shared.dispose();

  // A repeated load of one commit: loadCommit renders each time (the materialized tree is
  // cached per commit, the render is not).
  const counted = async (fn: () => Promise<unknown>) => {
    const before = rendererRuns();
    await fn();
    return rendererRuns() - before;
  };
  const loadCommitRuns: [number, number] = [
    await counted(() => loadCommit(app)),
    await counted(() => loadCommit(app)),
  ];

  // The agent: a poll that sees the same sha reconciles the commit in force, never loading it.
  const runner = new AppRunner({
    app,
    conn: offlineConnection,
    metrics: { incGit: () => undefined },
    log: quiet,
  } as unknown as AppRunnerDeps);
  const current = (poll: PollResult) =>
    (runner as unknown as { current(p: PollResult, log: unknown): Promise<unknown> }).current(poll, quiet);
  const newCommit = await counted(() => current({ sha, changed: true }));
  let unchangedPollMs = 0;
  const unchangedPoll = await counted(async () => {
    unchangedPollMs = await timed(() => current({ sha, changed: false, previous: sha }));
  });

  const dm = median(direct);
  return {
    name: c.name,
    renderer: c.renderer,
    appPath: c.appPath,
    direct: `${c.renderer} ${argv.slice(1).join(' ')}`,
    objects: ours.length,
    sameObjects,
    directMs: dm,
    tetherWarmMs: median(warm),
    tetherColdMs: median(cold),
    tetherUnsandboxedMs: median(unsandboxed),
    warmRatio: median(warm) / dm,
    coldRatio: median(cold) / dm,
    loadCommitRuns,
    agentRuns: { newCommit, unchangedPoll },
    agentUnchangedPollMs: unchangedPollMs,
  };
}

function firstLine(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  return (r.stdout || r.stderr || '').trim().split('\n')[0] ?? '';
}

export async function measureRender(runs = 9): Promise<RenderFigures> {
  const work = mkdtempSync(join(tmpdir(), 'tether-bench-render-'));
  try {
    const cases: RenderCase[] = [];
    for (const c of CASES) cases.push(await measureCase(c, work, runs));
    const path = process.env['PATH'] ?? '';
    const kustomize = findTool('kustomize', path)?.path ?? 'kustomize';
    const helm = findTool('helm', path)?.path ?? 'helm';
    return {
      date: new Date().toISOString().slice(0, 10),
      runs,
      machine: {
        hostname: hostname(),
        cpuModel: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
        node: process.version,
        git: firstLine(['git', '--version']),
        kustomize: firstLine([kustomize, 'version']),
        helm: firstLine([helm, 'version', '--short']),
        kernel: firstLine(['uname', '-sr']),
      },
      sandbox: sandboxProgram() ?? 'none (bubblewrap missing or not permitted)',
      cases,
      notes: [
        'Tether warm: loadManifestsWithRenderers with the commit already materialized (CommitFiles shared, as for every app of a commit after the first); cold: a fresh materialized copy each run; unsandboxed: warm with TETHER_RENDER_SANDBOX=off. Each includes reference checks, origin stripping (kustomize), parsing and validation.',
        'Direct: the renderer run by hand in a checkout of the same commit, unsandboxed, output not parsed.',
        "Repeated loads: loadCommit (src/sync/pipeline.ts) renders on every call; the agent's AppRunner.current() returns the commit in force when the poll's sha is unchanged, so a no-change tick starts no renderer (agentRuns.unchangedPoll).",
      ],
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function table(f: RenderFigures): string {
  const ms = (n: number) => `${n.toFixed(0)} ms`;
  const lines = [
    `Render, median of ${f.runs} (sandbox: ${f.sandbox})`,
    '',
    '| case | objects | same objects | direct | Tether warm | ratio | Tether cold | ratio | warm, no sandbox |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...f.cases.map(
      (c) =>
        `| ${c.name} (${c.renderer} ${c.appPath}) | ${c.objects} | ${c.sameObjects ? 'yes' : 'NO'} | ${ms(c.directMs)} | ${ms(c.tetherWarmMs)} | ${c.warmRatio.toFixed(2)}x | ${ms(c.tetherColdMs)} | ${c.coldRatio.toFixed(2)}x | ${ms(c.tetherUnsandboxedMs)} |`,
    ),
    '',
    'Renderer processes per load of the same commit:',
    ...f.cases.map(
      (c) =>
        `  ${c.name}: loadCommit ${c.loadCommitRuns[0]} then ${c.loadCommitRuns[1]} (it renders every time); agent current(): new commit ${c.agentRuns.newCommit}, unchanged poll ${c.agentRuns.unchangedPoll} (${c.agentUnchangedPollMs.toFixed(2)} ms)`,
    ),
    '',
    "The agent's no-change tick does not load the commit at all: AppRunner.current() returns the",
    'loaded commit when poll.sha is unchanged, so no renderer runs and nothing is read from git.',
  ];
  return lines.join('\n');
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '9' }, out: { type: 'string' } },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs: a whole number of at least 1');
  const figures = await measureRender(runs);
  const outDir = resolve(values.out ?? join(import.meta.dirname, 'results'));
  mkdirSync(outDir, { recursive: true });
  const host = String(figures.machine['hostname'])
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 20)
    .replace(/-+$/, '');
  const file = join(
    outDir,
    `${figures.date}-${figures.machine['cores']}c${Math.round(Number(figures.machine['memoryGiB']))}g-${host}-render.json`,
  );
  writeFileSync(file, JSON.stringify(figures, null, 2) + '\n');
  process.stdout.write(`${table(figures)}\n\nResults: ${file}\n`);
}
