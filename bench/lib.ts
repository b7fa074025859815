/**
 * Shared plumbing for the benchmarks: child processes, a keep-alive HTTPS client for the API
 * server (admin client certificate), kubectl, namespaces, the agent process, statistics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { freePort, launchAgent, sumMetric, waitFor, type AgentAppStatus } from '../test/support/agent.ts';
import { join, resolve } from 'node:path';
import type { ClusterState } from '../tools/controlplane/run.ts';

export const repoRoot = resolve(import.meta.dirname, '..');
export const tetherBin = join(repoRoot, 'bin/tether.js');

export interface RunResult {
  code: number;
  out: string;
  err: string;
  ms: number;
}

/** `tether sync` of a bench repository's apps/ directory as app `app`; the caller checks `code`. */
export function tetherSync(opts: {
  repo: string;
  app: string;
  kubeconfig: string;
  auditLog: string;
  extra?: string[];
}): Promise<RunResult> {
  return sh(
    process.execPath,
    [
      tetherBin,
      'sync',
      ...['--repo', opts.repo, '--ref', 'main', '--path', 'apps', '--app', opts.app],
      ...(opts.extra ?? []),
      ...['--audit-log', opts.auditLog],
    ],
    { env: { KUBECONFIG: opts.kubeconfig, NO_COLOR: '1' } },
  );
}

/** Runs a command; never throws on a non-zero exit (the caller checks `code`). */
export function sh(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; input?: string } = {},
): Promise<RunResult> {
  return new Promise((res, rej) => {
    const start = performance.now();
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', rej);
    child.on('close', (code) =>
      res({
        code: code ?? -1,
        out: Buffer.concat(out).toString(),
        err: Buffer.concat(err).toString(),
        ms: performance.now() - start,
      }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

export async function must(p: Promise<RunResult>, what: string): Promise<RunResult> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.err.slice(-2000)}`);
  return r;
}

export function runId(): string {
  return randomBytes(3).toString('hex');
}

/** The API server over one keep-alive connection pool, as the admin user. */
export class Kube {
  readonly state: ClusterState;
  readonly agent: Agent;
  private readonly base: URL;

  constructor(state: ClusterState, maxSockets = 32) {
    this.state = state;
    this.base = new URL(state.server);
    this.agent = new Agent({
      keepAlive: true,
      maxSockets,
      ca: readFileSync(state.pki.caCert),
      cert: readFileSync(state.pki.adminCert),
      key: readFileSync(state.pki.adminKey),
    });
  }

  req(
    method: string,
    path: string,
    body?: string,
    contentType = 'application/json',
  ): Promise<{ status: number; body: string }> {
    return new Promise((res, rej) => {
      const r = request(
        {
          host: this.base.hostname,
          port: this.base.port,
          method,
          path,
          agent: this.agent,
          headers: {
            accept: 'application/json',
            ...(body !== undefined && {
              'content-type': contentType,
              'content-length': Buffer.byteLength(body),
            }),
          },
        },
        (resp) => {
          const chunks: Buffer[] = [];
          resp.on('data', (c: Buffer) => chunks.push(c));
          resp.on('end', () => res({ status: resp.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
          resp.on('error', rej);
        },
      );
      r.on('error', rej);
      r.end(body);
    });
  }

  kubectl(args: string[], input?: string): Promise<RunResult> {
    return sh('kubectl', ['--kubeconfig', this.state.kubeconfig, ...args], { input: input ?? '' });
  }

  async createNamespaces(names: string[]): Promise<void> {
    for (const name of names) {
      const r = await this.req(
        'POST',
        '/api/v1/namespaces',
        JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }),
      );
      if (r.status !== 201) throw new Error(`create namespace ${name}: ${r.status} ${r.body}`);
    }
  }

  /**
   * How many Deployments in the namespaces have not finished rolling out (the controller has
   * not seen their generation, or fewer replicas are available than wanted).
   */
  async rollingOut(names: string[]): Promise<number> {
    let pending = 0;
    for (const ns of names) {
      const r = await this.req('GET', `/apis/apps/v1/namespaces/${ns}/deployments`);
      if (r.status !== 200) throw new Error(`list deployments in ${ns}: ${r.status} ${r.body}`);
      const items = (
        JSON.parse(r.body) as {
          items: {
            metadata: { generation?: number };
            spec: { replicas?: number };
            status?: { observedGeneration?: number; availableReplicas?: number; updatedReplicas?: number };
          }[];
        }
      ).items;
      for (const d of items) {
        const want = d.spec.replicas ?? 1;
        const s = d.status ?? {};
        const done =
          s.observedGeneration === d.metadata.generation &&
          (s.availableReplicas ?? 0) >= want &&
          (s.updatedReplicas ?? 0) >= want;
        if (!done) pending++;
      }
    }
    return pending;
  }

  /**
   * Deletes the benchmark's objects, then the namespaces (without waiting for the namespace
   * controller to finish) unless `keepNamespaces`.
   */
  async deleteNamespaces(names: string[], opts: { keepNamespaces?: boolean } = {}): Promise<void> {
    const collections = [
      '/apis/apps/v1/namespaces/NS/deployments',
      '/api/v1/namespaces/NS/services',
      '/api/v1/namespaces/NS/configmaps',
      '/api/v1/namespaces/NS/secrets',
    ];
    await Promise.all(
      names.map(async (ns) => {
        for (const c of collections) {
          if (c.includes('services')) {
            // Services have no deletecollection: list and delete one by one.
            const list = await this.req('GET', c.replace('NS', ns));
            if (list.status !== 200) continue;
            const items = (JSON.parse(list.body) as { items: { metadata: { name: string } }[] }).items;
            for (const i of items) await this.req('DELETE', `${c.replace('NS', ns)}/${i.metadata.name}`);
          } else await this.req('DELETE', c.replace('NS', ns));
        }
        if (!opts.keepNamespaces) await this.req('DELETE', `/api/v1/namespaces/${ns}`);
      }),
    );
  }

  /** apiserver_request_total summed by verb (and dry_run) over `resources`. */
  async serverRequests(resources: string[]): Promise<Record<string, number>> {
    const r = await this.req('GET', '/metrics');
    const out: Record<string, number> = {};
    for (const line of r.body.split('\n')) {
      if (!line.startsWith('apiserver_request_total{')) continue;
      const labels: Record<string, string> = Object.fromEntries(
        [...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
      );
      if (!resources.includes(labels.resource ?? '')) continue;
      const key = `${labels.verb}${labels.dry_run === 'All' ? ' (dry-run)' : ''}`;
      out[key] = (out[key] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return out;
  }

  close(): void {
    this.agent.destroy();
  }
}

export function diffCounts(
  after: Record<string, number>,
  before: Record<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

export { freePort, sumMetric, waitFor };

/** Every sample of a metric, keyed by its label set (`verb=patch,dry_run=true`). */
export function samples(text: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([^{ ]+)(\{([^}]*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    out[m[3] ?? ''] = (out[m[3] ?? ''] ?? 0) + Number(m[4]);
  }
  return out;
}

export interface BenchAgent {
  url: string;
  proc: ChildProcess;
  pid: number;
  logFile: string;
  status: () => Promise<AgentAppStatus>;
  metrics: () => Promise<string>;
  /** VmRSS and VmHWM (peak) of the agent process, from /proc, in MiB. */
  memory: () => { rssMiB: number; peakMiB: number };
  stop: () => Promise<void>;
}

/** Starts `tether agent` as a child process with a config file (cwd `dir`), waits for /readyz. */
export async function startAgent(opts: {
  dir: string;
  apps: string;
  /** More top-level config lines (webhooks), before `apps:`. */
  extra?: string;
  nodeArgs?: string[];
  logLevel?: string;
  /** /readyz waits for the first reconcile of every app: minutes at 10,000 objects. */
  readyTimeoutMs?: number;
}): Promise<BenchAgent> {
  // BENCH_AGENT_NODE_ARGS: Node flags for every agent of the run, to compare GC settings.
  const extra = process.env.BENCH_AGENT_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const a = await launchAgent({
    dir: opts.dir,
    apps: opts.apps,
    extra: opts.extra,
    logLevel: opts.logLevel,
    nodeArgs: [...extra, ...(opts.nodeArgs ?? [])],
    cwd: opts.dir,
    readyTimeoutMs: opts.readyTimeoutMs ?? 600_000,
  });
  const { url, proc } = a;
  return {
    url,
    proc,
    pid: proc.pid!,
    logFile: a.logFile,
    status: async () =>
      ((await (await fetch(`${url}/status`)).json()) as { apps: AgentAppStatus[] }).apps[0]!,
    metrics: async () => (await fetch(`${url}/metrics`)).text(),
    memory: () => {
      const s = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
      const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
      return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 };
    },
    stop: async () => {
      await a.stop('SIGTERM', 10_000);
    },
  };
}

export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export const median = (xs: number[]) => quantile(xs, 0.5);
export const p95 = (xs: number[]) => quantile(xs, 0.95);

export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}
