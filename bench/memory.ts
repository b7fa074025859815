/**
 * Resident memory of one agent tracking N objects split into apps of at most `perApp`
 * objects: the harder case next to the no-op figure, where one app holds all N (each app
 * adds its own plan, dry-run cache and git cache reader). Each app is first synced
 * with `tether sync`, then one agent (interval 1m) tracks all of them; once every app is in
 * sync and the watch events settled, VmRSS, VmHWM and the V8 heap are read.
 */
import { mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GitServer } from '../test/support/git-server.ts';
import type { Kube } from './lib.ts';
import { log, startAgent, sumMetric, tetherSync, waitFor } from './lib.ts';
import { asFiles, generate } from './manifests.ts';
import { appYaml } from './noop.ts';

export interface MemoryFigures {
  objects: number;
  apps: number;
  rssMiB: number;
  peakMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  firstReconcileMs: number;
}

export async function measureMemory(opts: {
  kube: Kube;
  server: GitServer;
  n: number;
  id: string;
  perApp: number;
  created: string[];
  /** Writes a V8 heap snapshot of the agent here once measured (--heap-snapshot). */
  heapSnapshotDir?: string;
  nodeArgs?: string[];
}): Promise<MemoryFigures> {
  const { kube, server, n, id } = opts;
  const parts = Math.ceil(n / opts.perApp);
  const dir = mkdtempSync(join(tmpdir(), 'tether-bench-mem-'));
  const apps: { name: string; url: string }[] = [];
  for (let p = 0; p < parts; p++) {
    const size = Math.min(opts.perApp, n - p * opts.perApp);
    const set = generate(size, `bm${id}-${p}`);
    const name = `bench-mem-${n}-${p}`;
    const repo = server.createRepo(name);
    repo.commit(asFiles(set), `bench: ${size} objects`);
    await kube.createNamespaces(set.namespaces);
    opts.created.push(...set.namespaces);
    log(`memory, ${n} objects: tether sync of app ${p + 1}/${parts} (${size} objects)`);
    const t = await tetherSync({
      repo: repo.bare,
      app: name,
      kubeconfig: kube.state.kubeconfig,
      auditLog: join(dir, 'audit.jsonl'),
    });
    if (t.code !== 0) throw new Error(`tether sync failed (${t.code}): ${t.err.slice(-1000)}`);
    apps.push({ name, url: server.url(name) });
  }
  log(`memory, ${n} objects: one agent tracking ${parts} app(s)`);
  const t0 = performance.now();
  const snapDir = opts.heapSnapshotDir;
  const a = await startAgent({
    dir,
    nodeArgs: [
      ...(opts.nodeArgs ?? []),
      ...(snapDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapDir}`] : []),
    ],
    apps: apps
      .map((x) =>
        appYaml({
          name: x.name,
          url: x.url,
          interval: '1m',
          mode: 'apply',
          kubeconfig: kube.state.kubeconfig,
        }),
      )
      .join(''),
  });
  try {
    await waitFor(
      async () => {
        const all = (
          (await (await fetch(`${a.url}/status`)).json()) as { apps: { state: string; reconciles: number }[] }
        ).apps;
        return all.every((s) => s.state === 'in-sync' && s.reconciles > 0);
      },
      900_000,
      'every app in sync',
      500,
    );
    const firstReconcileMs = performance.now() - t0;
    await sleep(5000);
    const m = await a.metrics();
    const mem = a.memory();
    const figures: MemoryFigures = {
      objects: n,
      apps: parts,
      ...mem,
      heapUsedMiB: sumMetric(m, 'nodejs_heap_size_used_bytes') / 2 ** 20,
      heapTotalMiB: sumMetric(m, 'nodejs_heap_size_total_bytes') / 2 ** 20,
      externalMiB: sumMetric(m, 'nodejs_external_memory_bytes') / 2 ** 20,
      firstReconcileMs,
    };
    log(`memory, ${n} objects: RSS ${mem.rssMiB.toFixed(0)} MiB (peak ${mem.peakMiB.toFixed(0)} MiB)`);
    if (snapDir) await heapSnapshot(a.pid, snapDir);
    return figures;
  } finally {
    await a.stop();
  }
}

/** Asks the agent for a heap snapshot (SIGUSR2) and waits until the file stops growing. */
async function heapSnapshot(pid: number, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  const file = await waitFor(
    () => readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f)),
    120_000,
    'the heap snapshot file',
    200,
  );
  let size = -1;
  await waitFor(
    () => {
      const now = statSync(join(dir, file.value)).size;
      const done = now > 0 && now === size;
      size = now;
      return done;
    },
    300_000,
    'the heap snapshot to be written',
    1000,
  );
  log(`heap snapshot: ${join(dir, file.value)} (${(size / 2 ** 20).toFixed(0)} MiB)`);
}
