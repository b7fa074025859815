/**
 * Flux as the benchmark's peer (`npm run bench -- --peer flux`): source-controller and
 * kustomize-controller built from the Go module proxy (tools/flux-*), their CRDs installed
 * from the module cache, both run out of cluster against the local control plane (admin
 * kubeconfig; metrics, health and artifact storage on loopback; leader election off), and
 * a GitRepository and a Kustomization per benchmarked repository.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FLUX_KUSTOMIZE_CONTROLLER_VERSION,
  FLUX_SOURCE_CONTROLLER_VERSION,
  ensureTool,
} from '../../tools/controlplane/build.ts';
import { repoRoot } from '../../tools/controlplane/paths.ts';
import { freePort, log, must, waitFor, type Kube } from '../lib.ts';

export const fluxVersions = {
  sourceController: FLUX_SOURCE_CONTROLLER_VERSION,
  kustomizeController: FLUX_KUSTOMIZE_CONTROLLER_VERSION,
};

interface Controller {
  name: string;
  proc: ChildProcess;
  metricsUrl: string;
  logFile: string;
}

/** CPU seconds (user + system) and VmRSS (MiB) of one process, from /proc. */
export function procUsage(pid: number): { cpuS: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuS: ticks / 100, rssMiB: rssKiB / 1024 };
}

function moduleDir(wrapper: string, mod: string): string {
  const r = spawnSync('go', ['list', '-m', '-f', '{{.Dir}}', mod], {
    cwd: join(repoRoot, 'tools', wrapper),
    encoding: 'utf8',
    env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' },
  });
  if (r.status !== 0) throw new Error(`go list -m ${mod}: ${r.stderr}`);
  return r.stdout.trim();
}

export class FluxPeer {
  readonly namespace: string;
  private readonly kube: Kube;
  private readonly dir: string;
  private controllers: Controller[] = [];

  private constructor(kube: Kube, namespace: string) {
    this.kube = kube;
    this.namespace = namespace;
    this.dir = mkdtempSync(join(tmpdir(), 'tether-bench-flux-'));
  }

  /** Builds both controllers (cached), installs their CRDs, starts them; Flux's objects go in `namespace` (existing). */
  static async start(kube: Kube, namespace: string): Promise<FluxPeer> {
    const source = await ensureTool('flux-source-controller');
    const kustomize = await ensureTool('flux-kustomize-controller');
    for (const [wrapper, mod] of [
      ['flux-source-controller', 'github.com/fluxcd/source-controller'],
      ['flux-kustomize-controller', 'github.com/fluxcd/kustomize-controller'],
    ] as const) {
      const crds = join(moduleDir(wrapper, mod), 'config', 'crd', 'bases');
      await must(kube.kubectl(['apply', '--server-side', '--force-conflicts', '-f', crds]), `CRDs of ${mod}`);
    }
    await must(
      kube.kubectl([
        'wait',
        '--for=condition=Established',
        '--timeout=60s',
        'crd/gitrepositories.source.toolkit.fluxcd.io',
        'crd/kustomizations.kustomize.toolkit.fluxcd.io',
      ]),
      'Flux CRDs established',
    );
    const peer = new FluxPeer(kube, namespace);
    const storagePort = await freePort();
    mkdirSync(join(peer.dir, 'storage'));
    await peer.launch('source-controller', source, [
      `--storage-path=${join(peer.dir, 'storage')}`,
      `--storage-addr=127.0.0.1:${storagePort}`,
      `--storage-adv-addr=127.0.0.1:${storagePort}`,
    ]);
    await peer.launch('kustomize-controller', kustomize, []);
    return peer;
  }

  private async launch(name: string, bin: string, args: string[]): Promise<void> {
    const metrics = await freePort();
    const health = await freePort();
    const logFile = join(this.dir, `${name}.log`);
    writeFileSync(logFile, '');
    const proc = spawn(
      bin,
      [
        ...args,
        `--metrics-addr=127.0.0.1:${metrics}`,
        `--health-addr=127.0.0.1:${health}`,
        '--enable-leader-election=false',
        '--log-level=info',
      ],
      {
        env: { ...process.env, KUBECONFIG: this.kube.state.kubeconfig, RUNTIME_NAMESPACE: this.namespace },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const append = (d: Buffer) => writeFileSync(logFile, d, { flag: 'a' });
    proc.stdout.on('data', append);
    proc.stderr.on('data', append);
    const c: Controller = { name, proc, metricsUrl: `http://127.0.0.1:${metrics}/metrics`, logFile };
    this.controllers.push(c);
    await waitFor(
      async () => {
        if (proc.exitCode !== null)
          throw new Error(`${name} exited (${proc.exitCode}): ${readFileSync(logFile, 'utf8').slice(-2000)}`);
        try {
          return (await fetch(`http://127.0.0.1:${health}/readyz`)).status === 200;
        } catch {
          return false;
        }
      },
      60_000,
      `${name} ready`,
      100,
    );
    log(`flux: ${name} running (pid ${proc.pid}, log ${logFile})`);
  }

  /** CPU seconds and resident memory of both controllers (each, and summed). */
  usage(): { cpuS: number; rssMiB: number; each: Record<string, { cpuS: number; rssMiB: number }> } {
    const each: Record<string, { cpuS: number; rssMiB: number }> = {};
    let cpuS = 0;
    let rssMiB = 0;
    for (const c of this.controllers) {
      const u = procUsage(c.proc.pid!);
      each[c.name] = u;
      cpuS += u.cpuS;
      rssMiB += u.rssMiB;
    }
    return { cpuS, rssMiB, each };
  }

  /** client-go's own count of requests (rest_client_requests_total) by method, both controllers. */
  async clientRequests(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const c of this.controllers) {
      const text = await (await fetch(c.metricsUrl)).text();
      for (const line of text.split('\n')) {
        if (!line.startsWith('rest_client_requests_total{')) continue;
        const method = /method="([^"]*)"/.exec(line)?.[1] ?? '?';
        out[method] = (out[method] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
      }
    }
    return out;
  }

  /** A GitRepository and a Kustomization (prune off, wait off) named `name`, at `interval`. */
  async track(name: string, url: string, path: string, interval: string): Promise<void> {
    const ns = this.namespace;
    const yaml = `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: ${name}, namespace: ${ns}}
spec:
  interval: ${interval}
  timeout: 120s
  url: ${url}
  ref: {branch: main}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: ${name}, namespace: ${ns}}
spec:
  interval: ${interval}
  retryInterval: ${interval}
  timeout: 10m
  sourceRef: {kind: GitRepository, name: ${name}}
  path: ./${path}
  prune: false
  wait: false
`;
    await must(
      this.kube.kubectl(['apply', '--server-side', '-f', '-'], yaml),
      'GitRepository and Kustomization',
    );
  }

  /** What `flux reconcile source git` does (and what notification-controller's Receiver does on a push). */
  async requestReconcile(name: string): Promise<void> {
    const body = JSON.stringify({
      metadata: { annotations: { 'reconcile.fluxcd.io/requestedAt': new Date().toISOString() } },
    });
    const r = await this.kube.req(
      'PATCH',
      `/apis/source.toolkit.fluxcd.io/v1/namespaces/${this.namespace}/gitrepositories/${name}`,
      body,
      'application/merge-patch+json',
    );
    if (r.status !== 200)
      throw new Error(`annotate GitRepository ${name}: ${r.status} ${r.body.slice(0, 300)}`);
  }

  /** The Kustomization's last applied commit (from `main@sha1:<sha>`) and its Ready condition. */
  async applied(name: string): Promise<{ sha: string | undefined; ready: boolean; message: string }> {
    const r = await this.kube.req(
      'GET',
      `/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/${this.namespace}/kustomizations/${name}`,
    );
    if (r.status !== 200) return { sha: undefined, ready: false, message: `${r.status}` };
    const k = JSON.parse(r.body) as {
      status?: {
        lastAppliedRevision?: string;
        conditions?: { type: string; status: string; message: string }[];
      };
    };
    const ready = k.status?.conditions?.find((c) => c.type === 'Ready');
    return {
      sha: k.status?.lastAppliedRevision?.split(':').pop(),
      ready: ready?.status === 'True',
      message: ready?.message ?? '',
    };
  }

  async waitApplied(name: string, sha: string, timeoutMs: number): Promise<number> {
    const t0 = performance.now();
    await waitFor(
      async () => {
        const a = await this.applied(name);
        return a.sha === sha && a.ready;
      },
      timeoutMs,
      `Flux Kustomization ${name} applied at ${sha.slice(0, 7)}`,
      50,
    );
    return performance.now() - t0;
  }

  /**
   * Deletes the Kustomization and GitRepository (objects stay: prune is off). Their finalizers
   * wait for the run in progress (minutes at 10,000 objects): past `waitMs` they are dropped,
   * which is all that finalizer would do with prune off.
   */
  async untrack(name: string, waitMs = 60_000): Promise<void> {
    for (const path of [
      `/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/${this.namespace}/kustomizations/${name}`,
      `/apis/source.toolkit.fluxcd.io/v1/namespaces/${this.namespace}/gitrepositories/${name}`,
    ]) {
      await this.kube.req('DELETE', path);
      const gone = async () => (await this.kube.req('GET', path)).status === 404;
      try {
        await waitFor(gone, waitMs, `${path} gone`, 200);
      } catch {
        log(`flux: ${path} still finalizing after ${waitMs / 1000} s: dropping its finalizers`);
        await this.kube.req(
          'PATCH',
          path,
          '{"metadata":{"finalizers":null}}',
          'application/merge-patch+json',
        );
        await waitFor(gone, 30_000, `${path} gone`, 200);
      }
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.controllers.map(async (c) => {
        if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
        const done = new Promise((r) => c.proc.once('exit', r));
        c.proc.kill('SIGTERM');
        const kill = setTimeout(() => c.proc.kill('SIGKILL'), 15_000);
        await done;
        clearTimeout(kill);
      }),
    );
    this.controllers = [];
    rmSync(join(this.dir, 'storage'), { recursive: true, force: true });
  }
}
