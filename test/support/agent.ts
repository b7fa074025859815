/**
 * Runs `tether agent` as a user would (a child process with a config file) and reads its
 * endpoints. launchAgent and waitFor are shared with the benchmarks, so nothing here imports
 * vitest at module level: startAgent loads the cluster helpers (vitest's inject) when called.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, sumMetric } from './prometheus.ts';

const tetherBin = resolve(import.meta.dirname, '..', '..', 'bin/tether.js');

export { freePort, sumMetric };

export interface LaunchOptions {
  /** Where the config file, the log file and (by default) the audit log go. */
  dir: string;
  /** The YAML of the `apps:` list, as written into the config file. */
  apps: string;
  /** Default: `audit-<port>.jsonl` in `dir`. */
  auditLog?: string;
  /** Default: info. */
  logLevel?: string;
  /** More top-level config lines (each ending in a newline), written before `apps:`. */
  extra?: string;
  /** Node flags, before bin/tether.js. */
  nodeArgs?: string[];
  /** Added to this process's environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** Resolve only once /readyz answers 200 (default true). */
  waitReady?: boolean;
  /** How long to wait for /readyz (default 60 s); then the agent is killed and this throws. */
  readyTimeoutMs?: number;
}

export interface AgentProcess {
  url: string;
  port: number;
  proc: ChildProcess;
  configFile: string;
  logFile: string;
  auditLog: string;
  /** Everything the agent wrote to stdout and stderr so far. */
  logs: () => string;
  /**
   * Sends `signal` (default SIGTERM) and resolves with the exit code once the agent exited;
   * with `killAfterMs`, sends SIGKILL if it has not exited by then.
   */
  stop: (signal?: NodeJS.Signals, killAfterMs?: number) => Promise<number | null>;
}

/**
 * Starts `tether agent --config <file>` on a free loopback port with a config file written
 * into `opts.dir`, its output appended to `agent-<port>.log` there; by default resolves once
 * /readyz answers 200.
 */
export async function launchAgent(opts: LaunchOptions): Promise<AgentProcess> {
  const port = await freePort();
  const auditLog = opts.auditLog ?? join(opts.dir, `audit-${port}.jsonl`);
  const configFile = join(opts.dir, `tether-${port}.yaml`);
  writeFileSync(
    configFile,
    `auditLog: ${auditLog}\nlisten: 127.0.0.1:${port}\nlogLevel: ${opts.logLevel ?? 'info'}\n${opts.extra ?? ''}apps:\n${opts.apps}`,
  );
  const logFile = join(opts.dir, `agent-${port}.log`);
  writeFileSync(logFile, '');
  const proc = spawn(
    process.execPath,
    [...(opts.nodeArgs ?? []), tetherBin, 'agent', '--config', configFile],
    {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const append = (d: Buffer) => writeFileSync(logFile, d, { flag: 'a' });
  proc.stdout.on('data', append);
  proc.stderr.on('data', append);
  const url = `http://127.0.0.1:${port}`;
  const agent: AgentProcess = {
    url,
    port,
    proc,
    configFile,
    logFile,
    auditLog,
    logs: () => readFileSync(logFile, 'utf8'),
    stop: async (signal = 'SIGTERM', killAfterMs) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      const done = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
      proc.kill(signal);
      const kill =
        killAfterMs === undefined ? undefined : setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
      try {
        return await done;
      } finally {
        clearTimeout(kill);
      }
    },
  };
  const timeoutMs = opts.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  while (opts.waitReady !== false) {
    if (proc.exitCode !== null) {
      throw new Error(`agent exited (${proc.exitCode}); log ${logFile}:\n${agent.logs().slice(-3000)}`);
    }
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(
        `agent not ready within ${timeoutMs / 1000}s; log ${logFile}:\n${agent.logs().slice(-3000)}`,
      );
    }
    await sleep(50);
  }
  return agent;
}

/** One app in the agent's /status answer (the fields tests and benchmarks read). */
export interface AgentAppStatus {
  name: string;
  state: string;
  lastAppliedCommit: string | null;
  lastSeenCommit: string | null;
  reconciles: number;
  lastError: string | null;
  driftedObjects?: number;
}

export interface RunningAgent extends AgentProcess {
  dir: string;
  status: () => Promise<{ leader: boolean; apps: AgentAppStatus[] }>;
  metric: (name: string, labels?: Record<string, string>) => Promise<number>;
}

/**
 * Starts an agent for an integration test (debug logs, audit.jsonl in `dir`). `apps` is the
 * YAML of the `apps:` list; KUBECONFIG in it becomes the test cluster's kubeconfig. Resolves
 * once /readyz answers 200 unless `waitReady` is false.
 */
export async function startAgent(opts: {
  apps: string;
  extra?: string;
  env?: Record<string, string>;
  dir?: string;
  waitReady?: boolean;
}): Promise<RunningAgent> {
  const { kubeconfig } = await import('./cluster.ts');
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tether-agent-'));
  const agent = await launchAgent({
    dir,
    apps: opts.apps.replaceAll('KUBECONFIG', kubeconfig()),
    auditLog: join(dir, 'audit.jsonl'),
    logLevel: 'debug',
    extra: opts.extra,
    env: opts.env,
    waitReady: opts.waitReady,
  });
  return {
    ...agent,
    dir,
    status: async () =>
      (await (await fetch(`${agent.url}/status`)).json()) as Awaited<ReturnType<RunningAgent['status']>>,
    metric: async (name, labels) =>
      sumMetric(await (await fetch(`${agent.url}/metrics`)).text(), name, labels),
  };
}

/**
 * Polls `check` every `everyMs` until it returns a truthy value or `ms` pass; returns the
 * value, the time it took and the moment (performance.now()) it came.
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  ms: number,
  what: string,
  everyMs = 25,
): Promise<{ value: T; elapsedMs: number; at: number }> {
  const start = performance.now();
  for (;;) {
    const v = await check();
    const at = performance.now();
    if (v) return { value: v, elapsedMs: at - start, at };
    if (at - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** POSTs a GitHub push event `body` to the agent's webhook `hook`, with this X-Hub-Signature-256. */
export function postGithubPush(
  agentUrl: string,
  hook: string,
  body: string,
  signature: string,
): Promise<Response> {
  return fetch(`${agentUrl}/webhook/${hook}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'X-GitHub-Event': 'push',
      'X-Hub-Signature-256': signature,
    },
    body,
  });
}
