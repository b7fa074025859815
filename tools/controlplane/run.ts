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
function ours(pid: number, binary: string): boolean {
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

function startProcess(binary: string, args: string[], log: string): number {
  const fd = openSync(log, 'a');
  // Detached so `cluster up` can exit and leave the control plane running for later commands.
  const child = spawn(binary, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  if (!child.pid) throw new ControlPlaneError(`could not start ${binary}`);
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

async function start(binaries: Binaries): Promise<ClusterState> {
  const dir = clusterDir();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pki = await generatePki(join(dir, 'pki'));
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const etcdLog = join(dir, 'etcd.log');
  const etcdPid = startProcess(
    binaries.etcd,
    [
      '--name=tether',
      `--data-dir=${join(dir, 'etcd-data')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=tether=http://127.0.0.1:${peerPort}`,
      // Test data is disposable: skipping fsync makes every write much cheaper.
      '--unsafe-no-fsync=true',
      '--quota-backend-bytes=8589934592',
      '--log-level=warn',
    ],
    etcdLog,
  );
  try {
    await waitFor(
      'etcd',
      etcdPid,
      binaries.etcd,
      etcdLog,
      async () => (await get(`${etcdUrl}/health`)) === 200,
      30_000,
    );
  } catch (e) {
    await kill(etcdPid, binaries.etcd);
    throw e;
  }
  const server = `https://127.0.0.1:${apiPort}`;
  const apiLog = join(dir, 'kube-apiserver.log');
  const apiPid = startProcess(
    binaries.kubeApiserver,
    [
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
    apiLog,
  );
  const state: ClusterState = {
    dir,
    kubeconfig: join(dir, 'kubeconfig'),
    server,
    etcdUrl,
    pids: { etcd: etcdPid, apiserver: apiPid },
    binaries,
    pki,
    startedAt: new Date().toISOString(),
  };
  // Written before waiting, so `down` can clean up even if start-up fails half-way.
  writeFileSync(stateFile(), JSON.stringify(state, null, 2));
  writeFileSync(state.kubeconfig, kubeconfigText(server, pki), { mode: 0o600 });
  try {
    await waitFor(
      'kube-apiserver',
      apiPid,
      binaries.kubeApiserver,
      apiLog,
      async () => (await get(`${server}/readyz`, pki)) === 200,
      120_000,
    );
  } catch (e) {
    await down();
    throw e;
  }
  return state;
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
