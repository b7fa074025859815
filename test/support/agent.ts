/** Runs `tether agent` as a user would (a child process with a config file) and reads its endpoints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { freePort, sumMetric } from './prometheus.ts';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { kubeconfig, repoRoot } from './cluster.ts';

export interface RunningAgent {
  url: string;
  dir: string;
  auditLog: string;
  proc: ChildProcess;
  logs: () => string;
  status: () => Promise<{
    leader: boolean;
    apps: {
      name: string;
      state: string;
      lastAppliedCommit: string | null;
      lastSeenCommit: string | null;
      reconciles: number;
      lastError: string | null;
    }[];
  }>;
  metric: (name: string, labels?: Record<string, string>) => Promise<number>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export { freePort, sumMetric };

/**
 * Starts an agent. `apps` is the YAML of the `apps:` list; the destination's kubeconfig is
 * filled in. Resolves once /readyz answers 200.
 */
export async function startAgent(opts: {
  apps: string;
  extra?: string;
  env?: Record<string, string>;
  dir?: string;
  waitReady?: boolean;
}): Promise<RunningAgent> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tether-agent-'));
  const port = await freePort();
  const auditLog = join(dir, 'audit.jsonl');
  const config = `auditLog: ${auditLog}\nlisten: 127.0.0.1:${port}\nlogLevel: debug\n${opts.extra ?? ''}apps:\n${opts.apps.replaceAll('KUBECONFIG', kubeconfig())}`;
  writeFileSync(join(dir, `tether-${port}.yaml`), config);
  const logFile = join(dir, `agent-${port}.log`);
  writeFileSync(logFile, '');
  const proc = spawn(
    process.execPath,
    [resolve(repoRoot, 'bin/tether.js'), 'agent', '--config', join(dir, `tether-${port}.yaml`)],
    {
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const append = (d: Buffer) => writeFileSync(logFile, d, { flag: 'a' });
  proc.stdout.on('data', append);
  proc.stderr.on('data', append);
  const url = `http://127.0.0.1:${port}`;
  const agent: RunningAgent = {
    url,
    dir,
    auditLog,
    proc,
    logs: () => readFileSync(logFile, 'utf8'),
    status: async () =>
      (await (await fetch(`${url}/status`)).json()) as Awaited<ReturnType<RunningAgent['status']>>,
    metric: async (name, labels) => sumMetric(await (await fetch(`${url}/metrics`)).text(), name, labels),
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      const done = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
      proc.kill(signal);
      return done;
    },
  };
  const deadline = Date.now() + 60_000;
  while (opts.waitReady !== false) {
    if (proc.exitCode !== null) throw new Error(`agent exited (${proc.exitCode}):\n${agent.logs()}`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`agent not ready within 60s:\n${agent.logs().slice(-3000)}`);
    await sleep(100);
  }
  return agent;
}

/** Polls `check` until it returns a truthy value or `ms` pass; returns the value and the time it took. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  ms: number,
  what: string,
): Promise<{ value: T; elapsedMs: number }> {
  const start = Date.now();
  for (;;) {
    const v = await check();
    if (v) return { value: v, elapsedMs: Date.now() - start };
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}
