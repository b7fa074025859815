/**
 * Helpers of the fault tests (faults.test.ts): an agent whose audit log may live anywhere and
 * whose kubeconfig may be a private fault cluster's, the audit log read as plain JSON lines
 * with the questions the tests ask of it (what was written for a commit, which intents are
 * left open, a one-line summary for the report), kubectl against any kubeconfig with bounded
 * requests, and a tmpfs that can be filled to make appends fail with ENOSPC even for root.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { createServer, connect, type Socket } from 'node:net';
import { existsSync, mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { launchAgent, sumMetric, waitFor, type AgentProcess } from '../support/agent.ts';

export interface AppStatus {
  name: string;
  state: string;
  lastAppliedCommit: string | null;
  lastSeenCommit: string | null;
  lastError: string | null;
  reconciles: number;
  errors: string[];
}

export interface AgentStatus {
  leader: boolean;
  audit: {
    path: string;
    writable: boolean;
    lastError: string | null;
    head: { seq: number; hash: string };
    anchoredSeq: number | null;
    anchorError: string | null;
  };
  apps: AppStatus[];
}

export interface FaultAgent extends AgentProcess {
  dir: string;
  status: () => Promise<AgentStatus>;
  app: () => Promise<AppStatus>;
  metric: (name: string, labels?: Record<string, string>) => Promise<number>;
  /** Resolves with the signal that ended the process (null for a plain exit). */
  exited: Promise<NodeJS.Signals | null>;
}

/**
 * `tether agent` with the audit log at `auditLog` (default `<dir>/audit.jsonl`); the apps YAML
 * is used as given (the caller writes the kubeconfig path into it).
 */
export async function startFaultAgent(opts: {
  dir: string;
  apps: string;
  auditLog?: string;
  env?: Record<string, string>;
  waitReady?: boolean;
}): Promise<FaultAgent> {
  const agent = await launchAgent({
    dir: opts.dir,
    apps: opts.apps,
    auditLog: opts.auditLog ?? join(opts.dir, 'audit.jsonl'),
    logLevel: 'debug',
    env: opts.env,
    waitReady: opts.waitReady,
  });
  const { proc } = agent;
  const exited = new Promise<NodeJS.Signals | null>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve(proc.signalCode);
    else proc.once('exit', (_code, signal) => resolve(signal));
  });
  const status = async () => (await (await fetch(`${agent.url}/status`)).json()) as AgentStatus;
  return {
    ...agent,
    dir: opts.dir,
    exited,
    status,
    app: async () => (await status()).apps[0]!,
    metric: async (name, labels) =>
      sumMetric(await (await fetch(`${agent.url}/metrics`)).text(), name, labels),
  };
}

/** Resolves with the signal that ended `proc`, or throws after `ms`. */
export async function deathOf(proc: ChildProcess, exited: Promise<NodeJS.Signals | null>, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`agent pid ${proc.pid} still alive after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** One app in the apps YAML (`app/` of the repository, ConfigMaps and Deployments). */
export function appYaml(
  name: string,
  repo: string,
  ns: string,
  kubeconfig: string,
  opts: { interval?: string; prune?: boolean } = {},
): string {
  return `  - name: ${name}
    source: {repo: "${repo}", ref: main, path: app, interval: ${opts.interval ?? '1s'}}
    destination: {namespace: ${ns}, kubeconfig: ${kubeconfig}}
    sync: {mode: apply, prune: ${opts.prune ?? true}}
`;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], killAfterMs = 30_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: killAfterMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** kubectl against `kubeconfig`, each request bounded; throws on a non-zero exit. */
export async function kubectlAt(kubeconfig: string, args: string[], timeout = '10s'): Promise<string> {
  const r = await run('kubectl', ['--kubeconfig', kubeconfig, `--request-timeout=${timeout}`, ...args]);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** name -> data.key of every ConfigMap in the namespace except the inventory. */
export async function configMapValues(
  kubeconfig: string,
  ns: string,
): Promise<Map<string, string | undefined>> {
  const list = JSON.parse(await kubectlAt(kubeconfig, ['-n', ns, 'get', 'configmaps', '-o', 'json'])) as {
    items: { metadata: { name: string; labels?: Record<string, string> }; data?: Record<string, string> }[];
  };
  const out = new Map<string, string | undefined>();
  for (const cm of list.items) {
    if (cm.metadata.name === 'kube-root-ca.crt') continue;
    if (cm.metadata.labels?.['tether.dev/inventory'] !== undefined) continue;
    out.set(cm.metadata.name, cm.data?.['key']);
  }
  return out;
}

// ---------------------------------------------------------------- the audit log as data

export interface Rec {
  seq: number;
  time: string;
  app: string;
  commit: { sha: string } | null;
  result: string;
  error?: string;
  objects: { kind: string; namespace: string; name: string; action: string }[];
  details?: Record<string, unknown>;
}

/** Every complete line of the log (a torn last line is left out). */
export function readRecords(path: string): Rec[] {
  if (!existsSync(path)) return [];
  const out: Rec[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as Rec);
    } catch {
      // torn last line
    }
  }
  return out;
}

export const WRITE_ACTIONS = new Set(['created', 'configured', 'healed', 'pruned']);

/**
 * Objects (by name) that a record of `sha` says were written, with the actions: completion
 * records (those naming their intent, and any other record of the commit that is not an
 * intent) and `recovered` records.
 */
export function writtenFor(records: Rec[], sha: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const r of records) {
    if (r.commit?.sha !== sha || r.result === 'intent') continue;
    for (const o of r.objects) {
      if (!WRITE_ACTIONS.has(o.action)) continue;
      const set = out.get(o.name) ?? new Set<string>();
      set.add(o.action);
      out.set(o.name, set);
    }
  }
  return out;
}

/** seqs of intent records that no later record names in details.intent. */
export function danglingIntents(records: Rec[]): number[] {
  const open = new Set<number>();
  for (const r of records) {
    if (r.result === 'intent') open.add(r.seq);
    const done = r.details?.['intent'];
    if (typeof done === 'number') open.delete(done);
  }
  return [...open];
}

/** Records from seq `after` on, one per item: "intent 12 (30 planned)", "recovered 13 (5 of 30 reached)". */
export function summarize(records: Rec[], afterSeq = 0): string {
  const parts: string[] = [];
  for (const r of records) {
    if (r.seq <= afterSeq) continue;
    const count = new Map<string, number>();
    for (const o of r.objects) count.set(o.action, (count.get(o.action) ?? 0) + 1);
    const counts = [...count].map(([a, n]) => `${n} ${a}`).join(', ');
    const link = typeof r.details?.['intent'] === 'number' ? ` ->intent ${String(r.details['intent'])}` : '';
    let text = `${r.result} ${r.seq}${link}`;
    if (r.result === 'recovered') {
      const reached = r.objects.filter((o) => o.action !== 'skipped').length;
      text += ` (${reached} of ${r.objects.length} reached${r.details?.['inventoryCommit'] === r.commit?.sha ? ', inventory done' : ''})`;
    } else if (counts) text += ` (${counts})`;
    if (r.error && r.result !== 'recovered') text += ` [${r.error.slice(0, 80)}]`;
    parts.push(text);
  }
  return parts.join('; ');
}

/** The last seq in the log (0 when empty). */
export function headSeq(path: string): number {
  const records = readRecords(path);
  return records.length ? records[records.length - 1]!.seq : 0;
}

// ---------------------------------------------------------------- a disk that fills up

/**
 * A small tmpfs mounted at `dir` (root only): `fill()` takes every free block so that any
 * write, a new file's first byte included, fails with ENOSPC (root has no reserved blocks
 * on tmpfs to fall back on); `free()` gives them back; `unmount()` undoes it all.
 */
export async function smallTmpfs(dir: string, size = '1m') {
  mkdirSync(dir, { recursive: true });
  const m = await run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
  if (m.code !== 0) throw new Error(`cannot mount a tmpfs at ${dir}: ${m.stderr}`);
  return {
    dir,
    fill(): void {
      const chunk = Buffer.alloc(4096, 1);
      let i = 0;
      for (;;) {
        try {
          writeFileSync(join(dir, `filler-${i++}`), chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
      const st = statfsSync(dir);
      if (st.bavail !== 0) throw new Error(`tmpfs ${dir} still has ${st.bavail} free blocks`);
    },
    free(): void {
      for (let i = 0; existsSync(join(dir, `filler-${i}`)); i++) rmSync(join(dir, `filler-${i}`));
    },
    async unmount(): Promise<void> {
      await run('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- responses that never arrive

/**
 * A TCP relay in front of the API server (TLS passes through untouched: the agent still talks
 * to the real server and checks its certificate). `hold()` keeps forwarding requests but drops
 * every byte of answer, as when the server commits a write and dies before its response leaves;
 * when the server's side closes, the agent's side is reset. `pass()` relays normally again.
 */
export async function tcpRelay(targetPort: number) {
  let holding = false;
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.resetAndDestroy();
      upstream.destroy();
    };
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      if (!holding) client.write(d);
    });
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    hold(): void {
      holding = true;
    },
    pass(): void {
      holding = false;
    },
    /** Resets every relayed connection. */
    cut(): void {
      for (const [c, u] of pairs) {
        c.resetAndDestroy();
        u.destroy();
      }
      pairs.clear();
    },
    async close(): Promise<void> {
      this.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A copy of `kubeconfig` (in `dir`) whose server is https://127.0.0.1:`port`. */
export function kubeconfigVia(kubeconfig: string, port: number, dir: string): string {
  const text = readFileSync(kubeconfig, 'utf8');
  const out = text.replace(/(server:\s*https:\/\/127\.0\.0\.1:)\d+/, `$1${port}`);
  if (out === text) throw new Error(`no https://127.0.0.1 server in ${kubeconfig}`);
  const path = join(dir, 'kubeconfig-relay');
  writeFileSync(path, out);
  return path;
}

/**
 * Objects a `recovered` record says reached the cluster that a later intent of the same
 * commit plans to write again (the recovery claimed a write that had not happened).
 */
export function recoveryOverclaims(records: Rec[]): string[] {
  const out: string[] = [];
  records.forEach((r, i) => {
    if (r.result !== 'recovered') return;
    const claimed = new Set(
      r.objects.filter((o) => o.action !== 'skipped').map((o) => `${o.action}:${o.name}`),
    );
    for (const later of records.slice(i + 1)) {
      if (later.result !== 'intent' || later.commit?.sha !== r.commit?.sha) continue;
      for (const o of later.objects) {
        const as = o.action === 'planned-prune' ? 'pruned' : 'configured';
        if (claimed.has(`${as}:${o.name}`))
          out.push(`${o.name} (recovered ${r.seq}, planned again in ${later.seq})`);
      }
    }
  });
  return out;
}

/**
 * The state of a scenario whose steps go on from where the previous one left off: the first
 * step `set`s it (and fills in its agent once started), later steps take it with `started()`,
 * which throws if the first step did not get as far as the agent. After the last step the
 * agent is SIGKILLed, then `cleanup` runs on whatever was set.
 */
export function scenarioState<T extends { agent?: FaultAgent }>(
  cleanup: (state: T) => Promise<void> | void,
): { set: (state: T) => T; started: () => T & { agent: FaultAgent } } {
  let current: T | undefined;
  afterAll(async () => {
    await current?.agent?.stop('SIGKILL');
    if (current) await cleanup(current);
  });
  return {
    set: (state) => (current = state),
    started: () => {
      if (!current?.agent) throw new Error('the first step did not set the scenario up');
      return { ...current, agent: current.agent };
    },
  };
}

/** Waits up to `ms` for the agent to apply `sha` (`what`), then up to 10 s for it to be in sync (`inSync`). */
export async function appliedInSync(
  agent: FaultAgent,
  sha: string,
  ms: number,
  what: string,
  inSync = 'in sync',
): Promise<void> {
  await waitFor(async () => (await agent.app()).lastAppliedCommit === sha, ms, what);
  await waitFor(async () => (await agent.app()).state === 'in-sync', 10_000, inSync);
}

/**
 * Waits for the agent to apply `sha`, then to be in sync (appliedInSync); the audit records
 * then, and the `expected` objects that no record names as written for `sha`.
 */
export async function convergedOn(
  agent: FaultAgent,
  sha: string,
  ms: number,
  what: string,
  expected: string[],
): Promise<{ records: Rec[]; unrecorded: string[] }> {
  await appliedInSync(agent, sha, ms, what);
  const records = readRecords(agent.auditLog);
  const written = writtenFor(records, sha);
  return { records, unrecorded: expected.filter((n) => !written.has(n)) };
}
