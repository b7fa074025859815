/**
 * Starts, finds and stops the local control plane: etcd and kube-apiserver on free loopback
 * ports, flags as controller-runtime's envtest uses them, and (unless asked not to)
 * kube-controller-manager, kube-scheduler and kwok with simulated nodes, so that workloads
 * really roll out. State is kept in one directory so a later `up` (or a test run) reuses a
 * healthy instance and recovers from a stale one.
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBinaries, ensureControllerBinaries, type Binaries, type ControllerBinaries } from './build.ts';
import { cacheRoot, clusterDir, repoRoot } from './paths.ts';
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
  /** kube-controller-manager, kube-scheduler and kwok, when started (`up` without --no-controllers). */
  controllers?: Controllers;
}

export type ControllerComponent = 'controllerManager' | 'scheduler' | 'kwok';

/** The processes that make workloads roll out, and the simulated nodes kwok plays the kubelet of. */
export interface Controllers {
  pids: Record<ControllerComponent, number>;
  binaries: ControllerBinaries;
  processes: Record<ControllerComponent, ProcessSpec>;
  /** Each process's health endpoint (https for the Kubernetes ones, http for kwok). */
  healthz: Record<ControllerComponent, string>;
  nodes: string[];
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

/**
 * One request; resolves with the status code (0 when unreachable) and the body. With pki it
 * authenticates as the admin against the API server; without, an https URL is a component's
 * self-signed health endpoint, which is not verified.
 */
function call(
  url: string,
  pki?: Pki,
  method = 'GET',
  body?: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const opts = {
      method,
      timeout: 3000,
      // The field manager of the simulated nodes.
      headers: {
        'user-agent': 'tether-cluster',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(pki
        ? { ca: readFileSync(pki.caCert), cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey) }
        : { rejectUnauthorized: false }),
    };
    const req = (url.startsWith('https') ? request : httpRequest)(url, opts, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.on('timeout', () => req.destroy());
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function get(url: string, pki?: Pki): Promise<number> {
  return (await call(url, pki)).status;
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
  /** Added to the caller's environment. */
  env?: Record<string, string>;
}

export type Component = 'etcd' | 'apiserver';

/**
 * Starts a process with its output appended to spec.log. Detached (own session, so `cluster
 * up` can exit and leave the shared control plane running) unless told otherwise; never
 * keeps the caller's event loop alive.
 */
export function spawnProcess(spec: ProcessSpec, detached = true): number {
  const fd = openSync(spec.log, 'a');
  const env = spec.env ? { ...process.env, ...spec.env } : process.env;
  const child = spawn(spec.binary, spec.args, { detached, env, stdio: ['ignore', fd, fd] });
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

/** The annotation kwok selects the nodes it plays the kubelet of by (as kwok's docs create them). */
const kwokNodeAnnotation = 'kwok.x-k8s.io/node';
/** The simulated nodes: two, so spreading and anti-affinity have somewhere to go. */
export const KWOK_NODES = ['kwok-node-0', 'kwok-node-1'];

function fakeNode(name: string): object {
  // Room for the benchmark's 4,000 pods (10,000 objects) on two nodes.
  const resources = { cpu: '64', memory: '512Gi', pods: '5000' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', [kwokNodeAnnotation]: 'fake' },
      labels: {
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'node-role.kubernetes.io/agent': '',
        type: 'kwok',
      },
    },
    // No kwok taint: every pod a test creates may land here, as on a one-pool cluster.
    spec: {},
    status: {
      allocatable: resources,
      capacity: resources,
      nodeInfo: {
        architecture: 'amd64',
        kubeletVersion: 'fake',
        kubeProxyVersion: 'fake',
        operatingSystem: 'linux',
      },
      phase: 'Running',
    },
  };
}

function controllerSpecs(
  cp: ClusterState,
  binaries: ControllerBinaries,
  ports: Record<ControllerComponent, number>,
): Record<ControllerComponent, ProcessSpec> {
  // The admin client certificate serves both: one identity, as envtest's users have.
  const kube = (name: string, port: number): string[] => [
    `--kubeconfig=${cp.kubeconfig}`,
    `--authentication-kubeconfig=${cp.kubeconfig}`,
    `--authorization-kubeconfig=${cp.kubeconfig}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${join(cp.dir, `${name}-certs`)}`,
    '--v=0',
  ];
  // Each command is run through a link named as the command: Kubernetes components name
  // their field manager and user agent after their file name, which in the cache carries the
  // version and hash (kube-controller-manager-v1.36.3-<hash>), unlike in any real cluster.
  const bin = join(cp.dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const linked = (name: string, target: string): string => {
    const path = join(bin, name);
    rmSync(path, { force: true });
    symlinkSync(target, path);
    return path;
  };
  const kwokConfig = join(cp.dir, 'kwok.yaml');
  copyFileSync(join(repoRoot, 'tools', 'kwok', 'stages.yaml'), kwokConfig);
  mkdirSync(join(cp.dir, 'kwok-home'), { recursive: true });
  return {
    controllerManager: {
      binary: linked('kube-controller-manager', binaries.kubeControllerManager),
      args: [
        ...kube('kube-controller-manager', ports.controllerManager),
        '--controllers=*',
        // The key kube-apiserver signs service-account tokens with, and the CA they trust.
        `--service-account-private-key-file=${cp.pki.saPrivate}`,
        `--root-ca-file=${cp.pki.caCert}`,
        '--use-service-account-credentials=true',
        '--service-cluster-ip-range=10.0.0.0/24',
      ],
      log: join(cp.dir, 'kube-controller-manager.log'),
    },
    scheduler: {
      binary: linked('kube-scheduler', binaries.kubeScheduler),
      args: kube('kube-scheduler', ports.scheduler),
      log: join(cp.dir, 'kube-scheduler.log'),
    },
    kwok: {
      binary: linked('kwok', binaries.kwok),
      args: [
        `--kubeconfig=${cp.kubeconfig}`,
        `--config=${kwokConfig}`,
        '--manage-all-nodes=false',
        `--manage-nodes-with-annotation-selector=${kwokNodeAnnotation}=fake`,
        '--cidr=10.244.0.1/16',
        '--node-ip=127.0.0.1',
        `--server-address=127.0.0.1:${ports.kwok}`,
      ],
      log: join(cp.dir, 'kwok.log'),
      // kwok also reads ~/.kwok/kwok.yaml: a user's own kwok set-up must not add stages here.
      env: { HOME: join(cp.dir, 'kwok-home') },
    },
  };
}

const controllerNames: Record<ControllerComponent, string> = {
  controllerManager: 'kube-controller-manager',
  scheduler: 'kube-scheduler',
  kwok: 'kwok',
};
const controllerComponents = Object.keys(controllerNames) as ControllerComponent[];

async function nodeReady(cp: ClusterState, name: string): Promise<boolean> {
  const res = await call(`${cp.server}/api/v1/nodes/${name}`, cp.pki);
  if (res.status !== 200) return false;
  const node = JSON.parse(res.body) as { status?: { conditions?: { type: string; status: string }[] } };
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Creates the simulated nodes (an existing one is kept) and waits until kwok reports them Ready. */
async function createNodes(cp: ClusterState, kwok: { pid: number; spec: ProcessSpec }): Promise<void> {
  for (const name of KWOK_NODES) {
    const res = await call(`${cp.server}/api/v1/nodes`, cp.pki, 'POST', fakeNode(name));
    if (res.status !== 201 && res.status !== 409)
      throw new ControlPlaneError(`could not create node ${name}: HTTP ${res.status} ${res.body}`);
  }
  await waitFor(
    'kwok (simulated nodes Ready)',
    kwok.pid,
    kwok.spec.binary,
    kwok.spec.log,
    async () => (await Promise.all(KWOK_NODES.map((n) => nodeReady(cp, n)))).every(Boolean),
    60_000,
  );
}

/** True when every controller process is ours and answers its health endpoint. */
export async function controllersHealthy(s: ClusterState): Promise<boolean> {
  const c = s.controllers;
  if (!c) return false;
  if (!controllerComponents.every((k) => ours(c.pids[k], c.processes[k].binary))) return false;
  return (await Promise.all(controllerComponents.map((k) => get(c.healthz[k])))).every(
    (code) => code === 200,
  );
}

async function stopControllers(c: Controllers | undefined): Promise<void> {
  if (!c) return;
  await Promise.all(controllerComponents.map((k) => kill(c.pids[k], c.processes[k].binary)));
}

/**
 * Starts kube-controller-manager, kube-scheduler and kwok against a running API server
 * (detached, like it), waits until each is healthy, then creates the simulated nodes and
 * waits until they are Ready. onSpawned sees the controllers as soon as their pids are
 * known. On failure every process it started is stopped before the error is thrown.
 */
export async function startControllers(
  cp: ClusterState,
  binaries: ControllerBinaries,
  onSpawned: (c: Controllers) => void = () => {},
): Promise<Controllers> {
  const ports = { controllerManager: await freePort(), scheduler: await freePort(), kwok: await freePort() };
  const processes = controllerSpecs(cp, binaries, ports);
  const c: Controllers = {
    pids: { controllerManager: 0, scheduler: 0, kwok: 0 },
    binaries,
    processes,
    healthz: {
      controllerManager: `https://127.0.0.1:${ports.controllerManager}/healthz`,
      scheduler: `https://127.0.0.1:${ports.scheduler}/healthz`,
      kwok: `http://127.0.0.1:${ports.kwok}/healthz`,
    },
    nodes: KWOK_NODES,
  };
  for (const k of controllerComponents) c.pids[k] = spawnProcess(processes[k]);
  onSpawned(c);
  try {
    await Promise.all(
      controllerComponents.map(async (k) => {
        const spec = processes[k];
        const probe = async (): Promise<boolean> => (await get(c.healthz[k])) === 200;
        await waitFor(controllerNames[k], c.pids[k], spec.binary, spec.log, probe, 60_000);
      }),
    );
    await createNodes(cp, { pid: c.pids.kwok, spec: processes.kwok });
  } catch (e) {
    await stopControllers(c);
    throw e;
  }
  return c;
}

/** Replaces whatever is left of the shared control plane's controllers with fresh ones. */
async function addControllers(state: ClusterState): Promise<ClusterState> {
  await stopControllers(state.controllers);
  const binaries = await ensureControllerBinaries();
  const next: ClusterState = { ...state };
  next.controllers = await startControllers(next, binaries, (c) => {
    next.controllers = c;
    writeFileSync(stateFile(), JSON.stringify(next, null, 2));
  });
  return next;
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

export interface UpOptions {
  /** Also run kube-controller-manager, kube-scheduler and kwok (default true). */
  controllers?: boolean;
}

/**
 * Reuses a healthy control plane, or replaces a stale one (dead or unhealthy processes from
 * an earlier, killed run) with a fresh one. reused says whether etcd and kube-apiserver were
 * already running (whoever started them stops them). Unless options.controllers is false,
 * the controllers are (re)started when they are missing or unhealthy, also on a reused one.
 */
export function up(options: UpOptions = {}): Promise<{ state: ClusterState; reused: boolean }> {
  return withUpLock(() => upLocked(options));
}

/** True when a process with this pid exists (of any user). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs fn while holding a lock file beside the control plane's directory, so that test
 * runs, CI and people starting `up` at the same time do not start two sets of processes
 * (two controller-managers would both act on every object): the first starts what is
 * missing, the others then reuse it. A lock whose holder is gone is taken over.
 */
async function withUpLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(cacheRoot(), { recursive: true });
  const lock = join(cacheRoot(), 'cluster.lock');
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder: number;
    let age: number;
    try {
      holder = Number(readFileSync(lock, 'utf8'));
      age = Date.now() - statSync(lock).mtimeMs;
    } catch {
      continue; // released meanwhile
    }
    // An empty file is a holder between creating and writing it, unless it is old.
    if ((holder && !alive(holder)) || (!holder && age > 5000)) rmSync(lock, { force: true });
    else await sleep(250);
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

async function upLocked(options: UpOptions): Promise<{ state: ClusterState; reused: boolean }> {
  const wantControllers = options.controllers ?? true;
  const existing = readState();
  if (existing && (await isHealthy(existing))) {
    if (!wantControllers || (await controllersHealthy(existing))) return { state: existing, reused: true };
    return { state: await addControllers(existing), reused: true };
  }
  if (existing) await down();
  const binaries = await ensureBinaries();
  // Built before anything starts, so a first build does not hold a half-started cluster.
  if (wantControllers) await ensureControllerBinaries();
  let lastError: unknown;
  // A port picked as free can be taken before the server binds it: try a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const state = await start(binaries);
      if (!wantControllers) return { state, reused: false };
      try {
        return { state: await addControllers(state), reused: false };
      } catch (e) {
        await down();
        throw e;
      }
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
  await stopControllers(s.controllers);
  await kill(s.pids.apiserver, s.binaries.kubeApiserver);
  await kill(s.pids.etcd, s.binaries.etcd);
  rmSync(s.dir, { recursive: true, force: true });
  return true;
}
