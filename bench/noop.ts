/**
 * No-op reconcile: an agent (interval 1s, apply mode) tracks the objects `tether sync` just
 * applied; once it is in sync and its own watch events have settled, count its API and git
 * requests by verb and its CPU time over a number of ticks, per tick. The comparison is the
 * wall time of `kubectl diff --server-side` on the same objects. The same agent gives the
 * resident-memory figure (VmRSS and peak VmHWM from /proc, and process_resident_memory_bytes).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kube } from './lib.ts';
import { diffCounts, log, samples, startAgent, sumMetric, waitFor, type BenchAgent } from './lib.ts';
import { writeSet, type ManifestSet } from './manifests.ts';

export interface NoopFigures {
  objects: number;
  ticks: number;
  windowMs: number;
  /** Agent-side counters (tether_api_requests_total) over the window, by verb/dry_run. */
  apiRequests: Record<string, number>;
  writeRequestsPerTick: number;
  dryRunRequestsPerTick: number;
  gitRequests: Record<string, number>;
  refRequestsPerTick: number;
  cpuMsPerTick: number;
  reconcileWallMsPerTick: number;
  /** API server's own counters for the four resources over the window (shared server: others' traffic included). */
  apiServerRequests: Record<string, number>;
  firstReconcileMs: number;
  kubectlDiffServerSideMs: number;
  kubectlDiffExit: number;
  memory: {
    rssMiB: number;
    peakMiB: number;
    processResidentMiB: number;
    heapUsedMiB: number;
    heapTotalMiB: number;
    externalMiB: number;
  };
}

export function appYaml(opts: {
  name: string;
  url: string;
  interval: string;
  mode: 'apply' | 'report';
  kubeconfig: string;
}): string {
  return `  - name: ${opts.name}
    source: {repo: "${opts.url}", ref: main, path: apps, interval: ${opts.interval}}
    destination: {namespace: default, kubeconfig: ${opts.kubeconfig}}
    sync: {mode: ${opts.mode}, prune: false}
`;
}

export async function waitInSync(a: BenchAgent, sha: string, timeoutMs: number, mode: 'apply' | 'report') {
  return waitFor(
    async () => {
      const s = await a.status();
      if (s.state === 'error' && s.lastError) throw new Error(`agent error: ${s.lastError}`);
      return (mode === 'report' || s.lastAppliedCommit === sha) && s.state === 'in-sync' && s.reconciles > 0
        ? s
        : undefined;
    },
    timeoutMs,
    'the agent in sync',
    50,
  );
}

export async function measureNoop(opts: {
  kube: Kube;
  set: ManifestSet;
  sha: string;
  app: string;
  url: string;
  ticks: number;
  nodeArgs?: string[];
  /** Skip kubectl diff --server-side (slow at 10,000). */
  skipDiff?: boolean;
}): Promise<NoopFigures> {
  const { kube, set, sha } = opts;
  const n = set.objects.length;
  const dir = mkdtempSync(join(tmpdir(), 'tether-bench-noop-'));
  log(`no-op reconcile, ${n} objects: starting the agent`);
  const t0 = performance.now();
  const a = await startAgent({
    dir,
    apps: appYaml({
      name: opts.app,
      url: opts.url,
      interval: '1s',
      mode: 'apply',
      kubeconfig: kube.state.kubeconfig,
    }),
    ...(opts.nodeArgs ? { nodeArgs: opts.nodeArgs } : {}),
  });
  try {
    await waitInSync(a, sha, 600_000, 'apply');
    const firstReconcileMs = performance.now() - t0;
    // The controllers' status updates change the Deployments' resourceVersions, which makes
    // the agent dry-run them again: measure the steady state, once every rollout is done.
    const rollout = await waitFor(
      async () => (await kube.rollingOut(set.namespaces)) === 0,
      600_000,
      `the Deployments of ${n} objects rolled out`,
      1000,
    );
    log(
      `no-op reconcile, ${n} objects: Deployments rolled out after ${Math.round(rollout.elapsedMs)} ms more`,
    );
    await sleep(3000); // let the watch events of the first reconcile settle
    const resources = ['deployments', 'services', 'configmaps', 'secrets'];
    const m0 = await a.metrics();
    const s0 = await a.status();
    const srv0 = await kube.serverRequests(resources);
    const w0 = performance.now();
    const { value: s1 } = await waitFor(
      async () => {
        const s = await a.status();
        return s.reconciles >= s0.reconciles + opts.ticks ? s : undefined;
      },
      opts.ticks * 10_000 + 30_000,
      `${opts.ticks} ticks`,
      250, // sparse: each /status read costs the agent CPU too
    );
    const m1 = await a.metrics();
    const windowMs = performance.now() - w0;
    const srv1 = await kube.serverRequests(resources);
    const ticks = s1.reconciles - s0.reconciles;
    const api = diffCounts(
      samples(m1, 'tether_api_requests_total'),
      samples(m0, 'tether_api_requests_total'),
    );
    const git = diffCounts(
      samples(m1, 'tether_git_requests_total'),
      samples(m0, 'tether_git_requests_total'),
    );
    const d = (name: string, labels: Record<string, string> = {}) =>
      sumMetric(m1, name, labels) - sumMetric(m0, name, labels);
    const writes = Object.entries(api)
      .filter(([k]) => !/verb="(get|list|watch)"/i.test(k) && !k.includes('dry_run="true"'))
      .reduce((s, [, v]) => s + v, 0);
    const dryRuns = Object.entries(api)
      .filter(([k]) => k.includes('dry_run="true"'))
      .reduce((s, [, v]) => s + v, 0);
    const mem = a.memory();
    const figures: NoopFigures = {
      objects: n,
      ticks,
      windowMs,
      apiRequests: api,
      writeRequestsPerTick: writes / ticks,
      dryRunRequestsPerTick: dryRuns / ticks,
      gitRequests: git,
      refRequestsPerTick: d('tether_git_requests_total', { kind: 'ls-refs' }) / ticks,
      cpuMsPerTick: (d('process_cpu_seconds_total') * 1000) / ticks,
      reconcileWallMsPerTick: (d('tether_reconcile_duration_seconds_sum') * 1000) / ticks,
      apiServerRequests: diffCounts(srv1, srv0),
      firstReconcileMs,
      kubectlDiffServerSideMs: 0,
      kubectlDiffExit: 0,
      memory: {
        ...mem,
        processResidentMiB: sumMetric(m1, 'process_resident_memory_bytes') / 2 ** 20,
        heapUsedMiB: sumMetric(m1, 'nodejs_heap_size_used_bytes') / 2 ** 20,
        heapTotalMiB: sumMetric(m1, 'nodejs_heap_size_total_bytes') / 2 ** 20,
        externalMiB: sumMetric(m1, 'nodejs_external_memory_bytes') / 2 ** 20,
      },
    };
    log(
      `no-op reconcile, ${n} objects: ${ticks} ticks, ${figures.cpuMsPerTick.toFixed(1)} ms CPU/tick, ` +
        `writes ${writes}, dry-runs ${dryRuns}, RSS ${mem.rssMiB.toFixed(0)} MiB`,
    );
    await a.stop();
    if (opts.skipDiff) return figures;
    log(`no-op reconcile, ${n} objects: kubectl diff --server-side`);
    const files = writeSet(set, join(dir, 'files'));
    const k = await kube.kubectl(['diff', '--server-side', '-R', '-f', files]);
    if (k.code > 1) throw new Error(`kubectl diff failed (${k.code}): ${k.err.slice(-1000)}`);
    figures.kubectlDiffServerSideMs = k.ms;
    figures.kubectlDiffExit = k.code;
    return figures;
  } finally {
    await a.stop();
  }
}
