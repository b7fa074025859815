/**
 * Tether beside Flux (`--peer flux`), one size at a time, on the same objects, the same
 * repository and the same loopback git server, one side after the other (never both running):
 *
 * 1. The repository holds a seed commit (one ConfigMap); the side is running, in sync with it,
 *    at the same interval (Tether: an agent; Flux: a GitRepository and a Kustomization).
 * 2. First apply: a commit adding N objects is pushed and announced (Tether: its webhook;
 *    Flux: the `reconcile.fluxcd.io/requestedAt` annotation on the GitRepository, what
 *    `flux reconcile source git` and notification-controller's Receiver do); timed from the
 *    push to the side reporting that commit applied (Tether's /status, the Kustomization's
 *    lastAppliedRevision with Ready=True).
 * 3. Idle: a window of whole intervals with no change: API server requests on the four
 *    resources by verb (dry-run apart, apiserver_request_total), the side's own client
 *    requests, CPU (utime + stime from /proc).
 * 4. One-object change (a ConfigMap's data) pushed, to the new value read back from the API
 *    server: announced (webhook) and unannounced (the side's own poll).
 * 5. Drift: `kubectl scale` of a Deployment to spec.replicas back at the Git value.
 * 6. Resident memory (VmRSS; Flux: both controllers summed).
 *
 * Between the sides the objects are deleted (namespaces kept) and the repository goes back
 * to the seed, so each side's first apply creates every object.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { postGithubPush } from '../test/support/agent.ts';
import type { GitServer, Repo } from '../test/support/git-server.ts';
import type { Kube } from './lib.ts';
import { diffCounts, log, median, must, samples, startAgent, waitFor } from './lib.ts';
import { asFiles, generate, type ManifestSet } from './manifests.ts';
import { appYaml, waitInSync } from './noop.ts';
import { FluxPeer, fluxVersions, procUsage } from './peers/flux.ts';

export interface SideFigures {
  firstApplyMs: number;
  idle: {
    intervals: number;
    /** apiserver_request_total on deployments, services, configmaps, secrets over the window, per interval, by verb. */
    apiServerRequestsPerInterval: Record<string, number>;
    apiServerRequestsPerIntervalTotal: number;
    /** The side's own client counters (all resources, status writes and events included), per interval. */
    clientRequestsPerInterval: Record<string, number>;
    clientRequestsPerIntervalTotal: number;
    cpuMsPerInterval: number;
  };
  webhookMs: number[];
  webhookMedianMs: number;
  pollMs: number[];
  pollMedianMs: number;
  driftHealMs: number[];
  driftHealMedianMs: number;
  rssMiB: number;
  rssEachMiB?: Record<string, number>;
}

export interface FluxFigures {
  objects: number;
  namespaces: number;
  interval: string;
  trials: number;
  versions: typeof fluxVersions;
  /** apiserver_request_total on the four resources per interval with neither side running (others' traffic on the shared server). */
  baselineApiServerRequestsPerInterval: Record<string, number>;
  baselineApiServerRequestsPerIntervalTotal: number;
  tether: SideFigures;
  flux: SideFigures;
}

/** What the measuring loop needs from a side. */
interface Side {
  name: string;
  /** Announces a push (webhook / requestedAt annotation). */
  announce(): Promise<void>;
  waitApplied(sha: string, timeoutMs: number): Promise<void>;
  usage(): { cpuS: number; rssMiB: number; each?: Record<string, { rssMiB: number }> };
  clientRequests(): Promise<Record<string, number>>;
}

const RESOURCES = ['deployments', 'services', 'configmaps', 'secrets'];

/**
 * A request to the agent after a long pause (pushing 10,000 files takes over 10 s) can meet a
 * keep-alive connection the agent's server is closing ("other side closed"): try once more.
 */
async function onceMore<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    return f();
  }
}
const IDLE_INTERVALS = 3;

const perInterval = (r: Record<string, number>) =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round((v / IDLE_INTERVALS) * 10) / 10]));
const total = (r: Record<string, number>) =>
  Math.round(Object.values(r).reduce((s, v) => s + v, 0) * 10) / 10;

/** apiserver_request_total on the four resources over IDLE_INTERVALS intervals, per interval, by verb. */
async function serverRequestsPerInterval(kube: Kube, intervalS: number): Promise<Record<string, number>> {
  const before = await kube.serverRequests(RESOURCES);
  await sleep(IDLE_INTERVALS * intervalS * 1000);
  return perInterval(diffCounts(await kube.serverRequests(RESOURCES), before));
}

function changed(o: ManifestSet['objects'][number], value: string): string {
  return o.yaml.replace('\ndata:\n', `\ndata:\n  BENCH_ROUND: "${value}"\n`);
}

async function configMapValue(kube: Kube, path: string): Promise<string | undefined> {
  const r = await kube.req('GET', path);
  return r.status === 200
    ? (JSON.parse(r.body) as { data?: Record<string, string> }).data?.BENCH_ROUND
    : undefined;
}

async function measureSide(opts: {
  kube: Kube;
  side: Side;
  repo: Repo;
  set: ManifestSet;
  intervalS: number;
  trials: number;
}): Promise<SideFigures> {
  const { kube, side, repo, set, intervalS, trials } = opts;
  const n = set.objects.length;
  // A Flux reconcile dry-runs every object: about 15 s at 2,000 on 2 cores, longer than the interval.
  const waitMs = intervalS * 3000 + 60_000 + n * 30;
  // First apply.
  log(`flux comparison, ${n} objects, ${side.name}: first apply`);
  const full = repo.commit(asFiles(set), `bench: ${n} objects`);
  const t0 = performance.now();
  await side.announce();
  await side.waitApplied(full, 1_800_000);
  const firstApplyMs = performance.now() - t0;
  log(`flux comparison, ${n} objects, ${side.name}: first apply ${(firstApplyMs / 1000).toFixed(1)} s`);

  // Idle: whole intervals without a change.
  await sleep(3000);
  log(`flux comparison, ${n} objects, ${side.name}: idle for ${IDLE_INTERVALS} intervals`);
  const u0 = side.usage();
  const c0 = await side.clientRequests();
  const apiServer = await serverRequestsPerInterval(kube, intervalS);
  const u1 = side.usage();
  const client = perInterval(diffCounts(await side.clientRequests(), c0));

  // One-object change: announced, then unannounced (the side's poll).
  const configMaps = set.objects.filter((o) => o.kind === 'ConfigMap');
  const change = async (t: number, announce: boolean): Promise<number> => {
    const o = configMaps[t % configMaps.length]!;
    const value = `${side.name}-${announce ? 'hook' : 'poll'}-${t}`;
    repo.commit({ [o.file]: changed(o, value) }, `bench: change ${o.name}`);
    const at = performance.now();
    if (announce) await side.announce();
    const done = await waitFor(
      async () => (await configMapValue(kube, o.path)) === value,
      waitMs,
      `${o.name} changed (${value})`,
      20,
    );
    return done.at - at;
  };
  const webhookMs: number[] = [];
  const pollMs: number[] = [];
  for (let t = 0; t < trials; t++) {
    webhookMs.push(await change(t, true));
    await sleep(500);
  }
  log(
    `flux comparison, ${n} objects, ${side.name}: webhook ${webhookMs.map((x) => x.toFixed(0)).join(', ')} ms`,
  );
  // A poll comes one interval after the last reconcile (for both sides, the interval restarts
  // then): push at spread offsets after the previous trial's apply, so the median is about
  // half an interval plus the work, not a full interval.
  for (let t = 0; t < trials; t++) {
    await sleep(((t + 0.5) / trials) * intervalS * 1000);
    pollMs.push(await change(trials + t, false));
  }
  log(`flux comparison, ${n} objects, ${side.name}: poll ${pollMs.map((x) => x.toFixed(0)).join(', ')} ms`);

  // Drift: kubectl scale, to healed.
  const deployments = set.objects.filter((o) => o.kind === 'Deployment');
  const driftHealMs: number[] = [];
  for (let t = 0; t < trials; t++) {
    const d = deployments[(t * 7) % deployments.length]!;
    await must(
      kube.kubectl(['-n', d.namespace, 'scale', 'deployment', d.name, `--replicas=${set.replicas + 5}`]),
      'kubectl scale',
    );
    const at = performance.now();
    const healed = await waitFor(
      async () =>
        (JSON.parse((await kube.req('GET', d.path)).body) as { spec: { replicas: number } }).spec.replicas ===
        set.replicas,
      waitMs,
      `${d.name} healed`,
      20,
    );
    driftHealMs.push(healed.at - at);
    await sleep(500);
  }
  log(
    `flux comparison, ${n} objects, ${side.name}: drift healed ${driftHealMs.map((x) => x.toFixed(0)).join(', ')} ms`,
  );
  const u = side.usage();
  return {
    firstApplyMs,
    idle: {
      intervals: IDLE_INTERVALS,
      apiServerRequestsPerInterval: apiServer,
      apiServerRequestsPerIntervalTotal: total(apiServer),
      clientRequestsPerInterval: client,
      clientRequestsPerIntervalTotal: total(client),
      cpuMsPerInterval: ((u1.cpuS - u0.cpuS) * 1000) / IDLE_INTERVALS,
    },
    webhookMs,
    webhookMedianMs: median(webhookMs),
    pollMs,
    pollMedianMs: median(pollMs),
    driftHealMs,
    driftHealMedianMs: median(driftHealMs),
    rssMiB: u.rssMiB,
    ...(u.each
      ? { rssEachMiB: Object.fromEntries(Object.entries(u.each).map(([k, v]) => [k, v.rssMiB])) }
      : {}),
  };
}

export async function measureFlux(opts: {
  kube: Kube;
  server: GitServer;
  n: number;
  id: string;
  created: string[];
  /** Both sides' interval (poll, Flux's reconcile), seconds. */
  intervalS?: number;
  trials?: number;
  /** Node flags for the Tether agent (--cpu-prof). */
  nodeArgs?: string[];
}): Promise<FluxFigures> {
  const { kube, server, n, id } = opts;
  const intervalS = opts.intervalS ?? 10;
  const interval = `${intervalS}s`;
  const trials = opts.trials ?? 3;
  const set = generate(n, `bf${id}-${n}`);
  const seedNs = `bf${id}-${n}-seed`;
  await kube.createNamespaces([...set.namespaces, seedNs]);
  opts.created.push(...set.namespaces, seedNs);
  const name = `flux-cmp-${id}-${n}`;
  const repo = server.createRepo(name);
  const url = server.url(name);
  const seed = {
    'apps/seed/configmap.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: seed, namespace: ${seedNs}}\ndata: {seed: "1"}\n`,
  };
  const seedSha = repo.commit(seed, 'bench: seed');
  const common = { kube, repo, set, intervalS, trials };

  // Tether: an agent with its webhook.
  const dir = mkdtempSync(join(tmpdir(), 'tether-bench-flux-cmp-'));
  const secretFile = join(dir, 'hook-secret');
  writeFileSync(secretFile, 'bench-hook-secret\n');
  log(`flux comparison, ${n} objects: Tether agent (interval ${interval})`);
  const agent = await startAgent({
    dir,
    apps: appYaml({ name, url, interval, mode: 'apply', kubeconfig: kube.state.kubeconfig }).replace(
      'namespace: default',
      `namespace: ${seedNs}`,
    ),
    ...(opts.nodeArgs ? { nodeArgs: opts.nodeArgs } : {}),
    extra: `webhooks:\n  - {name: github, type: github, secretFile: ${secretFile}}\n`,
  });
  let tether: SideFigures;
  try {
    await waitInSync(agent, seedSha, 60_000, 'apply');
    const body = JSON.stringify({ ref: 'refs/heads/main', repository: { clone_url: url } });
    const signature = `sha256=${createHmac('sha256', 'bench-hook-secret').update(body).digest('hex')}`;
    tether = await measureSide({
      ...common,
      side: {
        name: 'tether',
        announce: async () => {
          const r = await onceMore(() => postGithubPush(agent.url, 'github', body, signature));
          if (r.status !== 202) throw new Error(`tether webhook: ${r.status} ${await r.text()}`);
        },
        waitApplied: async (sha, timeoutMs) => {
          await waitInSync(agent, sha, timeoutMs, 'apply');
        },
        usage: () => procUsage(agent.pid),
        clientRequests: async () => {
          const m = samples(await onceMore(() => agent.metrics()), 'tether_api_requests_total');
          const out: Record<string, number> = {};
          for (const [k, v] of Object.entries(m)) {
            const verb = /verb="([^"]*)"/.exec(k)?.[1] ?? '?';
            const key = `${verb}${k.includes('dry_run="true"') ? ' (dry-run)' : ''}`;
            out[key] = (out[key] ?? 0) + v;
          }
          return out;
        },
      },
    });
  } finally {
    await agent.stop();
  }

  // Back to the seed, with no object left, for Flux's first apply.
  log(`flux comparison, ${n} objects: deleting the objects for Flux's turn`);
  await kube.deleteNamespaces(set.namespaces, { keepNamespaces: true });
  const seedAgain = repo.commit(
    Object.fromEntries(set.namespaces.map((ns) => [`apps/${ns}`, null])),
    'bench: seed',
  );

  log(`flux comparison, ${n} objects: the API server's traffic with neither side running`);
  const baseline = await serverRequestsPerInterval(kube, intervalS);
  log(
    `flux comparison, ${n} objects: Flux source-controller ${fluxVersions.sourceController}, kustomize-controller ${fluxVersions.kustomizeController}`,
  );
  const fluxNs = `bf${id}-${n}-flux`;
  await kube.createNamespaces([fluxNs]);
  opts.created.push(fluxNs);
  const peer = await FluxPeer.start(kube, fluxNs);
  let flux: SideFigures;
  try {
    await peer.track(name, url, 'apps', interval);
    await peer.waitApplied(name, seedAgain, 120_000);
    flux = await measureSide({
      ...common,
      side: {
        name: 'flux',
        announce: () => peer.requestReconcile(name),
        waitApplied: async (sha, timeoutMs) => {
          await peer.waitApplied(name, sha, timeoutMs);
        },
        usage: () => peer.usage(),
        clientRequests: () => peer.clientRequests(),
      },
    });
    await peer.untrack(name);
  } finally {
    await peer.stop();
  }
  repo.dispose();
  return {
    objects: n,
    namespaces: set.namespaces.length,
    interval,
    trials,
    versions: fluxVersions,
    baselineApiServerRequestsPerInterval: baseline,
    baselineApiServerRequestsPerIntervalTotal: total(baseline),
    tether,
    flux,
  };
}
