/**
 * `npm run bench`: Tether's performance figures against the local control plane, each beside
 * its comparison from the same run, checked against the targets in DESIGN.md.
 *
 *   npm run bench                          # sizes 200, 2000, 10000; 20 drift trials; git 5,000 files x 1,000 commits
 *   npm run bench -- --quick               # sizes 200, 1000; 10 drift trials; git 1,000 files x 200 commits (< 5 min)
 *   npm run bench -- --sizes 10000 --skip compare,noop,git   # memory at 10,000 only
 *   npm run bench -- --out /tmp/results    # results directory (default bench/results)
 *   npm run bench -- --cpu-prof DIR        # run the no-op agents under node --cpu-prof, profiles in DIR
 *   npm run bench -- --heap-snapshot DIR   # a V8 heap snapshot of the 10,000-object agent, in DIR
 *   npm run bench -- --peer flux           # also Flux (source- and kustomize-controller) side by side, per size
 *
 * Per size: first apply (tether sync vs kubectl apply --server-side vs a raw PATCH loop, each
 * on fresh namespaces), then an agent tracking the tether-applied objects for the no-op
 * tick and memory figures, and kubectl diff --server-side on the same objects. Drift latency
 * runs on the 2,000-object set (or the size nearest to it; the smallest in --quick). At
 * 10,000 or more, memory is measured with one agent tracking apps of 5,000 objects each. Git runs on its own generated
 * repository. Namespaces are unique per run and deleted at the end. With --peer flux, Flux's
 * controllers are built (cached) and, per size of --peer-sizes (default: the run's sizes from
 * 2,000 up), measured beside a Tether agent on the same objects and repository (bench/flux.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GitServer } from '../test/support/git-server.ts';
import { up } from '../tools/controlplane/run.ts';
import { measureApply } from './apply.ts';
import { measureDrift } from './drift.ts';
import { measureFlux } from './flux.ts';
import { measureGit } from './git-fetch.ts';
import { Kube, log, runId } from './lib.ts';
import { measureMemory } from './memory.ts';
import { measureNoop } from './noop.ts';
import { measureSmallSync, measureStartup } from './startup.ts';
import { machineFacts, markdown, resultsName, type Results } from './report.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    out: { type: 'string' },
    skip: { type: 'string', default: '' },
    'drift-trials': { type: 'string' },
    'cpu-prof': { type: 'string' },
    'heap-snapshot': { type: 'string' },
    peer: { type: 'string' },
    'peer-sizes': { type: 'string' },
    'peer-trials': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: npm run bench -- [--quick] [--sizes 200,2000,10000] [--out DIR] [--skip compare,noop,diff,drift,memory,git,startup] [--drift-trials N] [--cpu-prof DIR] [--heap-snapshot DIR] [--peer flux [--peer-sizes 2000,10000] [--peer-trials 3]]\n' +
      '  --skip compare: no kubectl apply / raw PATCH loop comparisons (tether sync still sets up); diff: no kubectl diff\n' +
      '  --peer flux: build Flux (source-controller, kustomize-controller) and measure it beside Tether\n',
  );
  process.exit(0);
}
const quick = values.quick;
const sizes = (values.sizes ?? (quick ? '200,1000' : '200,2000,10000'))
  .split(',')
  .map((v) => Number(v.trim()));
if (sizes.some((n) => !Number.isInteger(n) || n < 10))
  throw new Error(`--sizes: whole numbers of at least 10`);
const skip = new Set(values.skip.split(',').filter(Boolean));
if (values.peer !== undefined && values.peer !== 'flux') throw new Error(`--peer: only "flux" is known`);
const peerSizes = !values.peer
  ? []
  : values['peer-sizes']
    ? values['peer-sizes'].split(',').map((v) => Number(v.trim()))
    : sizes.filter((n) => n >= 2000);
if (values.peer && peerSizes.length === 0) peerSizes.push(Math.max(...sizes));
const driftTrials = Number(values['drift-trials'] ?? (quick ? 10 : 20));
const gitSize = quick ? { files: 1000, commits: 200 } : { files: 5000, commits: 1000 };
const noopTicks = quick ? 5 : 10;
const outDir = resolve(values.out ?? join(import.meta.dirname, 'results'));
// Quick mode measures drift on the smallest set: two more agents starting on 1,000 objects
// would not fit in five minutes next to kubectl apply's two.
const driftSize = quick
  ? Math.min(...sizes)
  : [...sizes].sort((a, b) => Math.abs(a - 2000) - Math.abs(b - 2000))[0]!;

const started = performance.now();
// Measure what ships: the compiled agent (bin/tether.js runs dist/ while it matches src/).
const built = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'tools', 'build.ts')], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (built.status !== 0) throw new Error('npm run build failed: the benchmark measures the compiled agent');
const { state } = await up();
const kube = new Kube(state);
const server = await GitServer.start();
const id = runId();
const created: string[] = [];
const results: Results = {
  date: new Date().toISOString().slice(0, 10),
  quick,
  machine: await machineFacts(kube),
  notes: [],
  sizes,
  apply: [],
  noop: [],
};
if (quick)
  results.notes.push(
    `Quick mode: sizes ${sizes.join(', ')}, ${driftTrials} drift trials on the ${driftSize}-object set, ${noopTicks} no-op ticks per size, git repository of ${gitSize.files} files and ${gitSize.commits} commits (full run: 200/2000/10000, 20 trials, 5,000 files x 1,000 commits).`,
  );
results.notes.push(
  'Objects: per 10, 2 Deployments, 2 headless Services, 4 ConfigMaps, 2 Secrets; 100 per namespace. The control plane runs kube-controller-manager, kube-scheduler and kwok (two simulated nodes): every Deployment rolls out its 2 pods, on the same 2 cores as the agent.',
  'No-op CPU per tick is process_cpu_seconds_total of the agent over the window divided by ticks (includes watch handling, /status and /metrics scrapes). Drift latency counts from the exit of `kubectl scale`.',
  'The API server is shared with whatever else runs on this machine; apiServerRequests in the JSON include that traffic.',
);
log(`run ${id}: sizes ${sizes.join(', ')}${quick ? ' (quick)' : ''}, results to ${outDir}`);

try {
  for (const n of sizes) {
    const repo = server.createRepo(`bench-${n}`);
    if (skip.has('noop') && (skip.has('drift') || n !== driftSize) && skip.has('compare')) continue;
    const applied = await measureApply({ kube, n, id, repo, created, tetherOnly: skip.has('compare') });
    if (!skip.has('compare')) results.apply.push(applied.figures);
    log(
      `first apply, ${n}: tether ${applied.figures.tetherSyncMs.toFixed(0)} ms, kubectl ${applied.figures.kubectlApplyServerSideMs.toFixed(0)} ms, raw ${applied.figures.rawPatchLoopMs.toFixed(0)} ms`,
    );
    if (applied.figures.tetherSyncError) {
      // tether sync refused the size (e.g. the inventory ConfigMap over 1 MiB): the no-op and
      // drift figures need it; memory below splits the objects into apps instead.
      await kube.deleteNamespaces(applied.tetherSet.namespaces);
      continue;
    }
    const ctx = {
      kube,
      set: applied.tetherSet,
      sha: applied.sha,
      app: applied.app,
      url: server.url(`bench-${n}`),
    };
    if (!skip.has('noop')) {
      const prof = values['cpu-prof'];
      results.noop.push(
        await measureNoop({
          ...ctx,
          ticks: noopTicks,
          skipDiff: skip.has('diff'),
          ...(prof ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${resolve(prof)}`] } : {}),
        }),
      );
    }
    if (!skip.has('drift') && n === driftSize) {
      results.drift = await measureDrift({ ...ctx, trials: driftTrials });
      log(
        `drift: report median ${results.drift.reportMedianMs.toFixed(0)} ms, heal median ${results.drift.healMedianMs.toFixed(0)} ms`,
      );
    }
    await kube.deleteNamespaces(applied.tetherSet.namespaces);
  }
  const memSize = Math.max(...sizes);
  if (!skip.has('memory') && memSize >= 10_000) {
    results.memory = await measureMemory({
      kube,
      server,
      n: memSize,
      id,
      perApp: 5000,
      created,
      ...(values['heap-snapshot'] ? { heapSnapshotDir: resolve(values['heap-snapshot']) } : {}),
    });
  }
  for (const n of peerSizes) {
    results.flux ??= [];
    const prof = values['cpu-prof'];
    const f = await measureFlux({
      kube,
      server,
      n,
      id,
      created,
      ...(values['peer-trials'] ? { trials: Number(values['peer-trials']) } : {}),
      ...(prof ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${resolve(prof)}`] } : {}),
    });
    results.flux.push(f);
    results.machine.fluxSourceController = f.versions.sourceController;
    results.machine.fluxKustomizeController = f.versions.kustomizeController;
  }
  if (peerSizes.length)
    results.notes.push(
      "Flux: source-controller and kustomize-controller built from the Go module proxy (tools/flux-*), run out of cluster with the admin kubeconfig, leader election off, artifact storage on loopback. Webhook for Flux = the reconcile.fluxcd.io/requestedAt annotation on the GitRepository (what `flux reconcile source git` and notification-controller's Receiver do; notification-controller is not run). Both sides use the same interval (Flux: GitRepository and Kustomization spec.interval; Flux heals drift at the Kustomization's next interval). The sides run one after the other on the same objects (deleted in between) and the same repository.",
    );
  if (!skip.has('startup')) {
    log('startup: tether --help vs kubectl version --client');
    results.startup = measureStartup();
    log('startup: tether sync vs kubectl apply --server-side, 20 objects');
    results.smallSync = await measureSmallSync({ kube, server, id, created, runs: quick ? 3 : 5 });
  }
  if (!skip.has('git')) {
    log(`git: generating ${gitSize.files} files x ${gitSize.commits} commits`);
    results.git = await measureGit(gitSize.files, gitSize.commits);
  }
} finally {
  await kube.deleteNamespaces(created).catch((e: unknown) => log(`cleanup: ${String(e)}`));
  await server.close();
  kube.close();
}

results.durationS = Math.round((performance.now() - started) / 1000);
results.machine.loadAverageAtEnd = loadavg()
  .map((l) => l.toFixed(1))
  .join(' ');
mkdirSync(outDir, { recursive: true });
const file = join(outDir, resultsName(results));
writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
process.stdout.write(`\n${markdown(results)}\n\nResults: ${file} (${results.durationS} s)\n`);
