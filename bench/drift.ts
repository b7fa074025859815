/**
 * Drift latency on the tracked set: `kubectl scale` a Deployment, then time until the agent
 * reports it (report mode: /status state "drifted") or heals it (apply mode: spec.replicas
 * back to the Git value, read from the API server every 10 ms). The agent's interval is 10m,
 * so what is measured is the watch path, not a poll. Latency counts from the moment
 * `kubectl scale` exits (the change is stored by then); kubectl's own wall time is recorded
 * beside it. A different Deployment is scaled in each trial.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kube } from './lib.ts';
import { log, median, must, p95, startAgent, waitFor } from './lib.ts';
import type { ManifestSet } from './manifests.ts';
import { appYaml, waitInSync } from './noop.ts';

export interface DriftFigures {
  objects: number;
  trials: number;
  reportMs: number[];
  healMs: number[];
  reportMedianMs: number;
  reportP95Ms: number;
  healMedianMs: number;
  healP95Ms: number;
  kubectlScaleMedianMs: number;
}

export async function measureDrift(opts: {
  kube: Kube;
  set: ManifestSet;
  sha: string;
  app: string;
  url: string;
  trials: number;
}): Promise<DriftFigures> {
  const { kube, set, sha, trials } = opts;
  const deployments = set.objects.filter((o) => o.kind === 'Deployment');
  const dir = mkdtempSync(join(tmpdir(), 'tether-bench-drift-'));
  const kubectlMs: number[] = [];
  const scale = async (i: number, replicas: number) => {
    const d = deployments[i % deployments.length]!;
    const r = await must(
      kube.kubectl(['-n', d.namespace, 'scale', 'deployment', d.name, `--replicas=${replicas}`]),
      'kubectl scale',
    );
    kubectlMs.push(r.ms);
    return { d, at: performance.now() };
  };
  const replicasOf = async (path: string) =>
    (JSON.parse((await kube.req('GET', path)).body) as { spec: { replicas: number } }).spec.replicas;

  // Apply mode: healed.
  const healMs: number[] = [];
  log(`drift, ${set.objects.length} objects: apply mode, ${trials} trials`);
  {
    const a = await startAgent({
      dir,
      apps: appYaml({
        name: opts.app,
        url: opts.url,
        interval: '10m',
        mode: 'apply',
        kubeconfig: kube.state.kubeconfig,
      }),
    });
    try {
      await waitInSync(a, sha, 600_000, 'apply');
      await sleep(2000);
      for (let t = 0; t < trials; t++) {
        const { d, at } = await scale(t, set.replicas + 5);
        const healed = await waitFor(
          async () => (await replicasOf(d.path)) === set.replicas,
          30_000,
          `${d.name} healed`,
          10,
        );
        healMs.push(healed.at - at);
        await sleep(300);
      }
    } finally {
      await a.stop();
    }
  }

  // Report mode: reported, then scaled back and in sync again before the next trial.
  const reportMs: number[] = [];
  log(`drift, ${set.objects.length} objects: report mode, ${trials} trials`);
  {
    const a = await startAgent({
      dir,
      apps: appYaml({
        name: opts.app,
        url: opts.url,
        interval: '10m',
        mode: 'report',
        kubeconfig: kube.state.kubeconfig,
      }),
    });
    try {
      await waitInSync(a, sha, 600_000, 'report');
      await sleep(1000);
      for (let t = 0; t < trials; t++) {
        const { at } = await scale(t + 1, set.replicas + 3);
        const found = await waitFor(
          async () => (await a.status()).state === 'drifted',
          30_000,
          'drift reported',
          10,
        );
        reportMs.push(found.at - at);
        await scale(t + 1, set.replicas);
        await waitFor(async () => (await a.status()).state === 'in-sync', 30_000, 'back in sync', 20);
        await sleep(200);
      }
    } finally {
      await a.stop();
    }
  }
  return {
    objects: set.objects.length,
    trials,
    reportMs,
    healMs,
    reportMedianMs: median(reportMs),
    reportP95Ms: p95(reportMs),
    healMedianMs: median(healMs),
    healP95Ms: p95(healMs),
    kubectlScaleMedianMs: median(kubectlMs),
  };
}
