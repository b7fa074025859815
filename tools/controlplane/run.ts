/**
 * Starts, finds and stops the local control plane: etcd and kube-apiserver on free loopback
 * ports, flags as controller-runtime's envtest uses them, state kept in one directory so a
 * later `up` (or a test run) reuses a healthy instance and recovers from a stale one.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBinaries, type Binaries } from './build.ts';
import { clusterDir } from './paths.ts';
import { generatePki, type Pki } from './pki.ts';

export interface ClusterState {
  dir: string;
  kubeconfig: string;
  server: string;
  etcdUrl: string;
  pids: { etcd: number; apiserver: number };
  binaries: Binaries;
  pki: Pki;
  startedAt: string;
}

export class ControlPlaneError extends Error {}

const stateFile = (): string => join(clusterDir(), 'state.json');

export function readState(): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(), 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

/** True when pid is alive and is the binary we started (pids get recycled). */
export function ours(pid: number, binary: string): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.split('\0')[0] === binary;
  } catch {
    return false;
  }
}

function get(url: string, pki?: Pki): Promise<number> {
  return new Promise((resolve) => {
    const opts = pki
      ? {
          ca: readFileSync(pki.caCert),
          cert: readFileSync(pki.adminCert),
          key: readFileSync(pki.adminKey),
          timeout: 3000,
        }
      : { timeout: 3000 };
    const req = (url.startsWith('https') ? request : httpRequest)(url, opts, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export async function isHealthy(s: ClusterState): Promise<boolean> {
  if (!ours(s.pids.etcd, s.binaries.etcd) || !ours(s.pids.apiserver, s.binaries.kubeApiserver)) return false;
  return (await get(`${s.server}/readyz`, s.pki)) === 200;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** How one control-plane process is started: enough to start it again on the same ports and data. */
export interface ProcessSpec {
  binary: string;
  args: string[];
  log: string;
}

export type Component = 'etcd' | 'apiserver';

/**
 * Starts a process with its output appended to spec.log. Detached (own session, so `cluster
 * up` can exit and leave the shared control plane running) unless told otherwise; never
 * keeps the caller's event loop alive.
 */
export function spawnProcess(spec: ProcessSpec, detached = true): number {
  const fd = openSync(spec.log, 'a');
  const child = spawn(spec.binary, spec.args, { detached, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  if (!child.pid) throw new ControlPlaneError(`could not start ${spec.binary}`);
  return child.pid;
}

async function waitFor(
  what: string,
  pid: number,
  binary: string,
  log: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    if (!ours(pid, binary)) {
      const text = tail(log);
      throw new ControlPlaneError(`${what} exited during start-up. Last lines of ${log}:\n${text}`);
    }
    await sleep(200);
  }
  throw new ControlPlaneError(`${what} did not become ready within ${timeoutMs / 1000}s. See ${log}`);
}

function kill(pid: number, binary: string): Promise<void> {
  if (!ours(pid, binary)) return Promise.resolve();
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return Promise.resolve();
  }
  return (async () => {
    for (let i = 0; i < 50 && ours(pid, binary); i++) await sleep(100);
    if (ours(pid, binary)) process.kill(pid, 'SIGKILL');
  })();
}

function kubeconfigText(server: string, pki: Pki): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: tether-local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${pki.caCert}`,
    'users:',
    '- name: tether-admin',
    '  user:',
    `    client-certificate: ${pki.adminCert}`,
    `    client-key: ${pki.adminKey}`,
    'contexts:',
    '- name: tether-local',
    '  context: {cluster: tether-local, user: tether-admin}',
    'current-context: tether-local',
    '',
  ].join('\n');
}

/** One running control plane: the persisted state plus how to start each process again. */
export interface ControlPlane extends ClusterState {
  processes: Record<Component, ProcessSpec>;
}

export interface StartOptions {
  /** Start the processes in their own session (default true: they outlive the caller). */
  detached?: boolean;
  /** Called as soon as each process is spawned (cp.pids is current), before waiting for it. */
  onSpawned?: (cp: ControlPlane, component: Component) => void;
}

/** True when the component answers its health endpoint (etcd /health, kube-apiserver /readyz). */
export async function componentReady(cp: ClusterState, component: Component): Promise<boolean> {
  return component === 'etcd'
    ? (await get(`${cp.etcdUrl}/health`)) === 200
    : (await get(`${cp.server}/readyz`, cp.pki)) === 200;
}

const readyTimeoutMs: Record<Component, number> = { etcd: 30_000, apiserver: 120_000 };
const displayName: Record<Component, string> = { etcd: 'etcd', apiserver: 'kube-apiserver' };

/**
 * Starts one component from its spec (the same ports, data directory and certificates it was
 * first started with) and waits until it is ready; stops it again if it never gets there.
 * Returns the new pid.
 */
export async function startComponent(
  cp: ControlPlane,
  component: Component,
  detached = true,
  onSpawned: (pid: number) => void = () => {},
): Promise<number> {
  const spec = cp.processes[component];
  const pid = spawnProcess(spec, detached);
  onSpawned(pid);
  try {
    await waitFor(
      displayName[component],
      pid,
      spec.binary,
      spec.log,
      () => componentReady(cp, component),
      readyTimeoutMs[component],
    );
  } catch (e) {
    await kill(pid, spec.binary);
    throw e;
  }
  return pid;
}

/**
 * Starts etcd and kube-apiserver with fresh certificates and data in dir (emptied first) on
 * free loopback ports, and waits until kube-apiserver is ready. Knows nothing of the shared
 * control plane's state file: `up()` uses it for the shared one, the fault-test harness for
 * private ones. On failure both processes are stopped before the error is thrown.
 */
export async function startControlPlane(
  dir: string,
  binaries: Binaries,
  options: StartOptions = {},
): Promise<ControlPlane> {
  const detached = options.detached ?? true;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pki = await generatePki(join(dir, 'pki'));
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const server = `https://127.0.0.1:${apiPort}`;
  const processes: Record<Component, ProcessSpec> = {
    etcd: {
      binary: binaries.etcd,
      args: [
        '--name=tether',
        `--data-dir=${join(dir, 'etcd-data')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=tether=http://127.0.0.1:${peerPort}`,
        // Test data is disposable: skipping fsync makes every write much cheaper. Data still
        // survives a SIGKILL of etcd (the page cache stays), not a crash of the machine.
        '--unsafe-no-fsync=true',
        '--quota-backend-bytes=8589934592',
        '--log-level=warn',
      ],
      log: join(dir, 'etcd.log'),
    },
    apiserver: {
      binary: binaries.kubeApiserver,
      args: [
        '--advertise-address=127.0.0.1',
        '--bind-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        `--etcd-servers=${etcdUrl}`,
        `--cert-dir=${join(dir, 'certs')}`,
        `--tls-cert-file=${pki.serverCert}`,
        `--tls-private-key-file=${pki.serverKey}`,
        `--client-ca-file=${pki.caCert}`,
        '--authorization-mode=RBAC',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${pki.saPublic}`,
        `--service-account-signing-key-file=${pki.saPrivate}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--allow-privileged=true',
        '--v=0',
      ],
      log: join(dir, 'kube-apiserver.log'),
    },
  };
  const cp: ControlPlane = {
    dir,
    kubeconfig: join(dir, 'kubeconfig'),
    server,
    etcdUrl,
    pids: { etcd: 0, apiserver: 0 },
    binaries,
    pki,
    processes,
    startedAt: new Date().toISOString(),
  };
  writeFileSync(cp.kubeconfig, kubeconfigText(server, pki), { mode: 0o600 });
  await startComponent(cp, 'etcd', detached, (pid) => {
    cp.pids.etcd = pid;
    options.onSpawned?.(cp, 'etcd');
  });
  try {
    await startComponent(cp, 'apiserver', detached, (pid) => {
      cp.pids.apiserver = pid;
      options.onSpawned?.(cp, 'apiserver');
    });
  } catch (e) {
    await kill(cp.pids.etcd, binaries.etcd);
    throw e;
  }
  return cp;
}

async function start(binaries: Binaries): Promise<ClusterState> {
  try {
    // The state file is written before waiting, so `down` can clean up even if this process
    // is killed while the control plane starts.
    return await startControlPlane(clusterDir(), binaries, {
      onSpawned: (cp) => writeFileSync(stateFile(), JSON.stringify(cp, null, 2)),
    });
  } catch (e) {
    await down();
    throw e;
  }
}

/**
 * Reuses a healthy control plane, or replaces a stale one (dead or unhealthy processes from
 * an earlier, killed run) with a fresh one.
 */
export async function up(): Promise<{ state: ClusterState; reused: boolean }> {
  const existing = readState();
  if (existing && (await isHealthy(existing))) return { state: existing, reused: true };
  if (existing) await down();
  const binaries = await ensureBinaries();
  let lastError: unknown;
  // A port picked as free can be taken before the server binds it: try a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return { state: await start(binaries), reused: false };
    } catch (e) {
      lastError = e;
      if (!/address already in use/i.test(String(e))) break;
    }
  }
  throw lastError instanceof Error ? lastError : new ControlPlaneError(String(lastError));
}

/** Stops the control plane and deletes its data. Safe to repeat. Returns false if none was running. */
export async function down(): Promise<boolean> {
  const s = readState();
  if (!s) {
    if (existsSync(clusterDir())) rmSync(clusterDir(), { recursive: true, force: true });
    return false;
  }
  await kill(s.pids.apiserver, s.binaries.kubeApiserver);
  await kill(s.pids.etcd, s.binaries.etcd);
  rmSync(s.dir, { recursive: true, force: true });
  return true;
}
