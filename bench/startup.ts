/**
 * Start-up: `tether --help` (the installed fast path: compiled dist/, only commander and the
 * command list loaded) against `kubectl version --client`, median wall time of several runs
 * each, run in turns so a noisy machine weighs on both alike. Target: within 3x of kubectl.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

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

// `node bench/startup.ts` on its own prints the figures.
if (import.meta.main) {
  const f = measureStartup();
  process.stdout.write(
    `tether --help ${f.tetherHelpMs.toFixed(0)} ms, kubectl version --client ${f.kubectlVersionClientMs.toFixed(0)} ms: ${(f.tetherHelpMs / f.kubectlVersionClientMs).toFixed(1)}x (median of ${f.runs})\n`,
  );
}
