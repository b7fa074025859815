/**
 * Machine facts, the results file, and the Markdown table: every figure beside its
 * comparison from the same run, the ratio, and the DESIGN.md target marked met or missed.
 */
import { cpus, hostname, loadavg, totalmem } from 'node:os';
import type { ApplyFigures } from './apply.ts';
import type { DriftFigures } from './drift.ts';
import type { FluxFigures } from './flux.ts';
import type { GitFigures } from './git-fetch.ts';
import type { MemoryFigures } from './memory.ts';
import { sh, type Kube } from './lib.ts';
import type { NoopFigures } from './noop.ts';
import type { SmallSyncFigures, StartupFigures } from './startup.ts';

export interface Results {
  date: string;
  quick: boolean;
  machine: Record<string, string | number>;
  notes: string[];
  sizes: number[];
  apply: ApplyFigures[];
  noop: NoopFigures[];
  drift?: DriftFigures;
  git?: GitFigures;
  memory?: MemoryFigures;
  startup?: StartupFigures;
  smallSync?: SmallSyncFigures;
  flux?: FluxFigures[];
  durationS?: number;
}

export async function machineFacts(kube: Kube): Promise<Record<string, string | number>> {
  const first = (s: string) => s.trim().split('\n')[0] ?? '';
  const version = JSON.parse((await kube.req('GET', '/version')).body) as { gitVersion: string };
  return {
    hostname: hostname(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    git: first((await sh('git', ['--version'])).out),
    kubectl: first((await sh('kubectl', ['version', '--client'])).out),
    kubeApiserver: version.gitVersion,
    kernel: first((await sh('uname', ['-sr'])).out),
    // The machine is shared: its load (1, 5, 15 min) says how much else ran beside the bench.
    loadAverageAtStart: loadavg()
      .map((l) => l.toFixed(1))
      .join(' '),
  };
}

export function resultsName(r: Results): string {
  const host = String(r.machine.hostname)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 20)
    .replace(/-+$/, '');
  const custom = r.sizes.join(',') !== (r.quick ? '200,2000' : '200,2000,10000');
  const peer = r.flux?.length ? `-flux${r.flux.map((f) => f.objects).join('-')}` : '';
  return `${r.date}-${r.machine.cores}c${Math.round(Number(r.machine.memoryGiB))}g-${host}${r.quick ? '-quick' : ''}${custom ? `-n${r.sizes.join('-')}` : ''}${peer}.json`;
}

const s = (ms: number) =>
  ms >= 10_000
    ? `${(ms / 1000).toFixed(1)} s`
    : ms >= 1000
      ? `${(ms / 1000).toFixed(2)} s`
      : `${ms.toFixed(0)} ms`;
const x = (r: number) => `${r.toFixed(2)}x`;
const mb = (mib: number) => `${(mib * 1.048576).toFixed(0)} MB`;
const mark = (ok: boolean | undefined) => (ok === undefined ? '—' : ok ? '**met**' : '**missed**');

export interface Row {
  figure: string;
  value: string;
  comparison: string;
  ratio: string;
  target: string;
  met: boolean | undefined;
}

export function rows(r: Results): Row[] {
  const out: Row[] = [];
  if (r.startup) {
    const ratio = r.startup.tetherHelpMs / r.startup.kubectlVersionClientMs;
    out.push({
      figure: `Start-up: tether --help (median of ${r.startup.runs})`,
      value: `${Math.round(r.startup.tetherHelpMs)} ms`,
      comparison: `kubectl version --client ${Math.round(r.startup.kubectlVersionClientMs)} ms`,
      ratio: `${ratio.toFixed(1)}x`,
      target: 'within 3x',
      met: ratio <= 3,
    });
  }
  if (r.smallSync) {
    const m = r.smallSync;
    out.push({
      figure: `Small repository: tether sync of ${m.objects} objects (median of ${m.runs})`,
      value: s(m.tetherSyncMedianMs),
      comparison: `kubectl apply --server-side ${s(m.kubectlApplyMedianMs)}`,
      ratio: x(m.tetherSyncMedianMs / m.kubectlApplyMedianMs),
      target: '',
      met: undefined,
    });
  }
  for (const f of r.flux ?? []) out.push(...fluxRows(f));
  for (const a of r.apply) {
    const t = a.objects === 2000;
    if (a.tetherSyncError) {
      out.push({
        figure: `First apply, ${a.objects} objects (${a.namespaces} ns): tether sync`,
        value: `failed after ${s(a.tetherSyncMs)}: ${a.tetherSyncError.replaceAll('|', '\\|')}`,
        comparison: Number.isNaN(a.kubectlApplyServerSideMs)
          ? ''
          : `kubectl apply --server-side ${s(a.kubectlApplyServerSideMs)}; raw PATCH loop ${s(a.rawPatchLoopMs)}`,
        ratio: '',
        target: t ? '≤ 0.33x kubectl' : '(target at 2,000)',
        met: t ? false : undefined,
      });
      continue;
    }
    out.push({
      figure: `First apply, ${a.objects} objects (${a.namespaces} ns): tether sync`,
      value: s(a.tetherSyncMs),
      comparison: `kubectl apply --server-side ${s(a.kubectlApplyServerSideMs)}`,
      ratio: x(a.tetherSyncMs / a.kubectlApplyServerSideMs),
      target: t ? '≤ 0.33x kubectl' : '(target at 2,000)',
      met: t ? a.tetherSyncMs <= a.kubectlApplyServerSideMs / 3 : undefined,
    });
    out.push({
      figure: `First apply, ${a.objects} objects: tether sync vs API server limit`,
      value: s(a.tetherSyncMs),
      comparison: `raw SSA PATCH loop x${a.rawPatchConcurrency} ${s(a.rawPatchLoopMs)}`,
      ratio: x(a.tetherSyncMs / a.rawPatchLoopMs),
      target: '',
      met: undefined,
    });
  }
  for (const n of r.noop) {
    const t = n.objects === 2000;
    out.push({
      figure: `No-op tick, ${n.objects} objects: write / dry-run requests per tick (${n.ticks} ticks)`,
      value: `${n.writeRequestsPerTick} / ${n.dryRunRequestsPerTick}`,
      comparison: `all API requests: ${JSON.stringify(n.apiRequests)}`,
      ratio: '',
      target: t ? '0 / 0' : '(target at 2,000)',
      met: t ? n.writeRequestsPerTick === 0 && n.dryRunRequestsPerTick === 0 : undefined,
    });
    const diffRan = n.kubectlDiffServerSideMs > 0;
    out.push({
      figure: `No-op tick, ${n.objects} objects: agent CPU per tick`,
      value: `${n.cpuMsPerTick.toFixed(1)} ms`,
      comparison: diffRan
        ? `kubectl diff --server-side ${s(n.kubectlDiffServerSideMs)} wall`
        : 'kubectl diff not run',
      ratio: diffRan ? x(n.cpuMsPerTick / n.kubectlDiffServerSideMs) : '',
      target: t ? '< 50 ms' : '(target at 2,000)',
      met: t ? n.cpuMsPerTick < 50 : undefined,
    });
    out.push({
      figure: `No-op tick, ${n.objects} objects: reconcile wall time per tick`,
      value: `${n.reconcileWallMsPerTick.toFixed(1)} ms`,
      comparison: diffRan
        ? `kubectl diff --server-side ${s(n.kubectlDiffServerSideMs)}`
        : 'kubectl diff not run',
      ratio: diffRan ? x(n.reconcileWallMsPerTick / n.kubectlDiffServerSideMs) : '',
      target: '',
      met: undefined,
    });
    out.push({
      figure: `No-op tick, ${n.objects} objects: git requests per tick`,
      value: `${n.refRequestsPerTick} ref listing(s)`,
      comparison: `all git requests: ${JSON.stringify(n.gitRequests)}`,
      ratio: '',
      target: '1 ref request per poll',
      met:
        Math.abs(n.refRequestsPerTick - 1) < 1e-9 &&
        Object.keys(n.gitRequests).every((k) => k.includes('ls-refs')),
    });
  }
  if (r.drift) {
    const d = r.drift;
    out.push({
      figure: `Drift reported (report mode), ${d.objects} objects, median / p95 of ${d.trials}`,
      value: `${s(d.reportMedianMs)} / ${s(d.reportP95Ms)}`,
      comparison: `kubectl scale itself ${s(d.kubectlScaleMedianMs)} (median)`,
      ratio: '',
      target: '< 1 s',
      met: d.reportP95Ms < 1000,
    });
    out.push({
      figure: `Drift healed (apply mode), ${d.objects} objects, median / p95 of ${d.trials}`,
      value: `${s(d.healMedianMs)} / ${s(d.healP95Ms)}`,
      comparison: `kubectl scale itself ${s(d.kubectlScaleMedianMs)} (median)`,
      ratio: '',
      target: '< 1 s',
      met: d.healP95Ms < 1000,
    });
  }
  if (r.git) {
    const g = r.git;
    const repo = `${g.files} files, ${g.commits} commits`;
    out.push({
      figure: `Git no-change poll (${repo}), mean of ${g.noChangePolls}`,
      value: `${g.noChangePollRequests} request(s), ${s(g.noChangePollMs)}`,
      comparison: '',
      ratio: '',
      target: '1 ref request per poll',
      met: g.noChangePollRequests === 1,
    });
    out.push({
      figure: `Git new commit: poll + fetch + read in the running agent (${repo}), median of ${g.newCommitRounds}`,
      value: s(g.newCommitMs),
      comparison: `git fetch --depth 1 + git archive ${s(g.gitFetchArchiveIncrementalMs)}`,
      ratio: x(g.newCommitMs / g.gitFetchArchiveIncrementalMs),
      target: '≤ 2x',
      met: g.newCommitMs <= 2 * g.gitFetchArchiveIncrementalMs,
    });
    out.push({
      figure: `Git new commit, the first in a fresh process (module loading, JIT warm-up)`,
      value: s(g.newCommitFirstMs),
      comparison: `git fetch --depth 1 + git archive ${s(g.gitFetchArchiveIncrementalMs)}`,
      ratio: x(g.newCommitFirstMs / g.gitFetchArchiveIncrementalMs),
      target: '',
      met: undefined,
    });
    out.push({
      figure: `Git cold fetch + read (${repo})`,
      value: s(g.coldMs),
      comparison: `git fetch --depth 1 + git archive ${s(g.gitFetchArchiveColdMs)}`,
      ratio: x(g.coldMs / g.gitFetchArchiveColdMs),
      target: '',
      met: undefined,
    });
  }
  for (const n of r.noop) {
    const t = n.objects === 10000;
    out.push({
      figure: `Agent resident memory tracking ${n.objects} objects (peak)`,
      value: `${mb(n.memory.rssMiB)} (${mb(n.memory.peakMiB)})`,
      comparison: n.memory.heapUsedMiB
        ? `V8 heap used ${mb(n.memory.heapUsedMiB)} of ${mb(n.memory.heapTotalMiB)}, external ${mb(n.memory.externalMiB)}`
        : '',
      ratio: '',
      target: t ? '< 200 MB' : '(target at 10,000)',
      met: t ? n.memory.rssMiB * 1.048576 < 200 : undefined,
    });
  }
  if (r.memory) {
    const m = r.memory;
    out.push({
      figure: `Agent resident memory tracking ${m.objects} objects in ${m.apps} app(s) (peak)`,
      value: `${mb(m.rssMiB)} (${mb(m.peakMiB)})`,
      comparison: `V8 heap used ${mb(m.heapUsedMiB)} of ${mb(m.heapTotalMiB)}, external ${mb(m.externalMiB)}`,
      ratio: '',
      target: m.objects === 10000 ? '< 200 MB' : '',
      met: m.objects === 10000 ? m.rssMiB * 1.048576 < 200 : undefined,
    });
  } else if (!r.noop.some((n) => n.objects === 10000))
    out.push({
      figure: 'Agent resident memory tracking 10000 objects',
      value: 'not measured in this run',
      comparison: '',
      ratio: '',
      target: '< 200 MB',
      met: undefined,
    });
  return out;
}

const verbs = (v: Record<string, number>) =>
  Object.entries(v)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';

/** Tether beside Flux: value Tether, comparison Flux, ratio Tether / Flux. */
function fluxRows(f: FluxFigures): Row[] {
  const t = f.tether;
  const p = f.flux;
  const n = f.objects;
  const ratio = (a: number, b: number) => (b > 0 ? x(a / b) : '');
  const at2000 = n === 2000;
  const timed = (row: Row): Row[] =>
    f.trials > 0
      ? [row]
      : [{ ...row, value: 'not measured (--peer-trials 0)', comparison: '', ratio: '', met: undefined }];
  return [
    {
      figure: `vs Flux, ${n} objects: first apply, commit pushed to every object applied`,
      value: s(t.firstApplyMs),
      comparison: `Flux ${s(p.firstApplyMs)}`,
      ratio: ratio(t.firstApplyMs, p.firstApplyMs),
      target: at2000 ? '≤ 0.25x Flux' : '',
      met: at2000 ? t.firstApplyMs <= p.firstApplyMs / 4 : undefined,
    },
    ...timed({
      figure: `vs Flux, ${n} objects: one-object change, push to applied, webhook (median of ${f.trials})`,
      value: s(t.webhookMedianMs),
      comparison: `Flux (requestedAt annotation) ${s(p.webhookMedianMs)}`,
      ratio: ratio(t.webhookMedianMs, p.webhookMedianMs),
      target: '',
      met: undefined,
    }),
    ...timed({
      figure: `vs Flux, ${n} objects: one-object change, push to applied, polling every ${f.interval} (median of ${f.trials})`,
      value: s(t.pollMedianMs),
      comparison: `Flux ${s(p.pollMedianMs)}`,
      ratio: ratio(t.pollMedianMs, p.pollMedianMs),
      target: '',
      met: undefined,
    }),
    {
      figure: `vs Flux, ${n} objects: API requests per no-change interval (${f.interval}), each side's own client counters`,
      value: `${t.idle.clientRequestsPerIntervalTotal} (${verbs(t.idle.clientRequestsPerInterval)})`,
      comparison: `Flux ${p.idle.clientRequestsPerIntervalTotal} (${verbs(p.idle.clientRequestsPerInterval)})`,
      ratio: ratio(t.idle.clientRequestsPerIntervalTotal, p.idle.clientRequestsPerIntervalTotal),
      target: at2000 ? '0 writes, 0 dry-runs' : '',
      met: at2000
        ? Object.keys(t.idle.clientRequestsPerInterval).every((k) => /^(get|list|watch)$/i.test(k))
        : undefined,
    },
    {
      figure: `vs Flux, ${n} objects: apiserver_request_total per no-change interval, 4 resources (shared server)`,
      value: `${t.idle.apiServerRequestsPerIntervalTotal} (${verbs(t.idle.apiServerRequestsPerInterval)})`,
      comparison: `Flux ${p.idle.apiServerRequestsPerIntervalTotal} (${verbs(p.idle.apiServerRequestsPerInterval)}); neither running ${f.baselineApiServerRequestsPerIntervalTotal} (${verbs(f.baselineApiServerRequestsPerInterval)})`,
      ratio: '',
      target: '',
      met: undefined,
    },
    {
      figure: `vs Flux, ${n} objects: CPU per no-change interval (${f.interval})`,
      value: `${t.idle.cpuMsPerInterval.toFixed(0)} ms`,
      comparison: `Flux ${p.idle.cpuMsPerInterval.toFixed(0)} ms (both controllers)`,
      ratio: ratio(t.idle.cpuMsPerInterval, p.idle.cpuMsPerInterval),
      target: '',
      met: undefined,
    },
    ...timed({
      figure: `vs Flux, ${n} objects: drift, kubectl scale to healed (median of ${f.trials})`,
      value: s(t.driftHealMedianMs),
      comparison: `Flux ${s(p.driftHealMedianMs)} (its next Kustomization interval, ${f.interval})`,
      ratio: ratio(t.driftHealMedianMs, p.driftHealMedianMs),
      target: '',
      met: undefined,
    }),
    {
      figure: `vs Flux, ${n} objects: resident memory, agent vs controllers`,
      value: mb(t.rssMiB),
      comparison: `Flux ${mb(p.rssMiB)} (${Object.entries(p.rssEachMiB ?? {})
        .map(([k, v]) => `${k} ${mb(v)}`)
        .join(', ')})`,
      ratio: ratio(t.rssMiB, p.rssMiB),
      target: n === 10000 ? '< 200 MB' : '',
      met: n === 10000 ? t.rssMiB * 1.048576 < 200 : undefined,
    },
  ];
}

export function markdown(r: Results): string {
  const m = r.machine;
  const lines = [
    `### Tether benchmark, ${r.date}${r.quick ? ' (quick mode)' : ''}`,
    '',
    `${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB; Node ${m.node}, ${m.git}, kubectl ${m.kubectl}, kube-apiserver ${m.kubeApiserver}; load average ${m.loadAverageAtStart} at the start, ${m.loadAverageAtEnd ?? '?'} at the end${m.fluxSourceController ? `; Flux source-controller ${m.fluxSourceController}, kustomize-controller ${m.fluxKustomizeController}` : ''}.`,
    '',
    '| Figure | Value | Comparison (same run) | Ratio | Target | Met |',
    '|---|---|---|---|---|---|',
    ...rows(r).map(
      (x) =>
        `| ${x.figure} | ${x.value} | ${x.comparison.replaceAll('|', '\\|')} | ${x.ratio} | ${x.target} | ${mark(x.met)} |`,
    ),
  ];
  if (r.notes.length) lines.push('', ...r.notes.map((n) => `- ${n}`));
  return lines.join('\n');
}
