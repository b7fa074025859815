/**
 * Start-up: `tether --help` (the installed fast path: compiled dist/, only commander and the
 * command list loaded) against `kubectl version --client`, median wall time of several runs
 * each, run in turns so a noisy machine weighs on both alike. Target: within 3x of kubectl.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GitServer } from '../test/support/git-server.ts';
import { must, tetherSync, type Kube } from './lib.ts';
import { asFiles, generate, writeSet } from './manifests.ts';

export interface StartupFigures {
  runs: number;
  tetherHelpMs: number;
  kubectlVersionClientMs: number;
}

function wallMs(cmd: string, args: string[]): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  return performance.now() - t;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function measureStartup(runs = 9): StartupFigures {
  const bin = join(import.meta.dirname, '..', 'bin', 'tether.js');
  const tether: number[] = [];
  const kubectl: number[] = [];
  wallMs(process.execPath, [bin, '--help']); // warm the file cache
  for (let i = 0; i < runs; i++) {
    tether.push(wallMs(process.execPath, [bin, '--help']));
    kubectl.push(wallMs('kubectl', ['version', '--client']));
  }
  return { runs, tetherHelpMs: median(tether), kubectlVersionClientMs: median(kubectl) };
}

export interface SmallSyncFigures {
  objects: number;
  runs: number;
  tetherSyncMs: number[];
  kubectlApplyMs: number[];
  tetherSyncMedianMs: number;
  kubectlApplyMedianMs: number;
}

/**
 * A small repository, where start-up counts: `tether sync` of 20 objects from a local clone
 * against `kubectl apply --server-side -R -f` of the same 20 objects from files, each run on
 * a fresh namespace of its own, in turns.
 */
export async function measureSmallSync(opts: {
  kube: Kube;
  server: GitServer;
  id: string;
  created: string[];
  runs?: number;
  objects?: number;
}): Promise<SmallSyncFigures> {
  const { kube, id } = opts;
  const runs = opts.runs ?? 5;
  const objects = opts.objects ?? 20;
  const work = mkdtempSync(join(tmpdir(), 'tether-bench-small-'));
  const tether: number[] = [];
  const kubectl: number[] = [];
  for (let i = 0; i < runs; i++) {
    const tSet = generate(objects, `bs${id}-t${i}`);
    const kSet = generate(objects, `bs${id}-k${i}`);
    await kube.createNamespaces([...tSet.namespaces, ...kSet.namespaces]);
    opts.created.push(...tSet.namespaces, ...kSet.namespaces);
    const repo = opts.server.createRepo(`bench-small-${id}-${i}`);
    repo.commit(asFiles(tSet), `bench: ${objects} objects`);
    const t = await must(
      tetherSync({
        repo: repo.bare,
        app: `bench-small-${i}`,
        kubeconfig: kube.state.kubeconfig,
        auditLog: join(work, 'audit.jsonl'),
        extra: ['-n', tSet.namespaces[0]!],
      }),
      'tether sync (small)',
    );
    tether.push(t.ms);
    const dir = writeSet(kSet, join(work, `k${i}`));
    const k = await must(kube.kubectl(['apply', '--server-side', '-R', '-f', dir]), 'kubectl apply (small)');
    kubectl.push(k.ms);
    repo.dispose();
  }
  return {
    objects,
    runs,
    tetherSyncMs: tether,
    kubectlApplyMs: kubectl,
    tetherSyncMedianMs: median(tether),
    kubectlApplyMedianMs: median(kubectl),
  };
}

// `node bench/startup.ts` on its own prints the figures.
if (import.meta.main) {
  const f = measureStartup();
  process.stdout.write(
    `tether --help ${f.tetherHelpMs.toFixed(0)} ms, kubectl version --client ${f.kubectlVersionClientMs.toFixed(0)} ms: ${(f.tetherHelpMs / f.kubectlVersionClientMs).toFixed(1)}x (median of ${f.runs})\n`,
  );
}
