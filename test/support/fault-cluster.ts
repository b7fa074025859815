/**
 * A private control plane for fault tests: its own etcd and kube-apiserver, in its own
 * directory on its own ports, that a test may kill (SIGKILL), stop (SIGSTOP), continue and
 * restart on the same ports and data. The shared control plane (`npm run cluster -- up`, the
 * vitest global setup) is never touched. No vitest import, so bench/ can use it too.
 *
 *     const fc = await startFaultCluster();
 *     try {
 *       await fc.etcd.kill();
 *       // ... the apiserver cannot reach its storage ...
 *       await fc.etcd.restart();
 *       await fc.ready();
 *     } finally {
 *       await fc.down();
 *     }
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBinaries, type Binaries } from '../../tools/controlplane/build.ts';
import { cacheRoot } from '../../tools/controlplane/paths.ts';
import {
  alive,
  componentReady,
  ControlPlaneError,
  ours,
  startComponent,
  startControlPlane,
  type Component,
  type ControlPlane,
} from '../../tools/controlplane/run.ts';

/** What a fault process is doing right now, from /proc: gone covers exited and zombie. */
export type ProcessState = 'running' | 'stopped' | 'gone';

export interface FaultProcess {
  readonly name: 'etcd' | 'kube-apiserver';
  /** Pid of the current incarnation (changes on restart). */
  readonly pid: number;
  /** The client port (etcd) or secure port (kube-apiserver); the same across restarts. */
  readonly port: number;
  /** The process's log file (all incarnations append to it). */
  readonly log: string;
  state(): ProcessState;
  /** SIGKILL, then wait until the process is gone (its ports are free again). No-op if gone. */
  kill(): Promise<void>;
  /** SIGSTOP, then wait until the kernel reports it stopped: it holds its ports but answers nothing. */
  stop(): Promise<void>;
  /** SIGCONT, then wait until it runs again. */
  cont(): Promise<void>;
  /**
   * Starts the process again with the same flags: the same ports, data directory and
   * certificates (so an existing kubeconfig keeps working and etcd data survives). Kills the
   * current incarnation first if it is still there. Waits for etcd's /health or
   * kube-apiserver's /readyz (which needs etcd up).
   */
  restart(): Promise<void>;
}

export interface FaultCluster {
  /** The private directory: owner.pid, and in cp/ certificates, etcd data, logs, kubeconfig. */
  readonly dir: string;
  readonly kubeconfig: string;
  /** kube-apiserver URL, https://127.0.0.1:PORT */
  readonly server: string;
  readonly etcdUrl: string;
  readonly controlPlane: ControlPlane;
  readonly etcd: FaultProcess;
  readonly apiserver: FaultProcess;
  /** Waits until kube-apiserver answers /readyz with 200 (e.g. after an etcd restart). */
  ready(timeoutMs?: number): Promise<void>;
  /**
   * Undoes whatever faults a test left behind: continues stopped processes, restarts gone
   * ones (etcd first), then waits for /readyz. For a beforeEach, so one failed test does not
   * fail every later one.
   */
  heal(): Promise<void>;
  /** Pids of every process whose command line mentions this cluster's directory. */
  processes(): number[];
  /** Kills both processes (SIGKILL, even when stopped) and removes the directory. Safe to repeat. */
  down(): Promise<void>;
}

/** Parent of every fault cluster's directory. */
export function faultRoot(): string {
  return join(cacheRoot(), 'fault');
}

/** Pids of processes whose command line contains needle (what `pgrep -f needle` finds). */
export function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').includes(needle))
        pids.push(pid);
    } catch {
      // Exited while we looked.
    }
  }
  return pids;
}

function procState(pid: number): ProcessState {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ')'.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X' || state === '') return 'gone';
    return state === 'T' || state === 't' ? 'stopped' : 'running';
  } catch {
    return 'gone';
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new ControlPlaneError(`timed out after ${timeoutMs / 1000}s waiting: ${what}`);
    await sleep(20);
  }
}

/**
 * Kills what an earlier run left behind: directories under faultRoot() whose owning test
 * process is gone (a crashed or killed worker never ran its `down()`).
 */
function sweepAbandoned(): void {
  if (!existsSync(faultRoot())) return;
  for (const name of readdirSync(faultRoot())) {
    const dir = join(faultRoot(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8'));
    } catch {
      // Created a moment ago by another process that has not written its owner file yet.
      continue;
    }
    if (alive(owner)) continue;
    for (const pid of processesMentioning(`${dir}/`)) signal(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

class Proc implements FaultProcess {
  readonly name: 'etcd' | 'kube-apiserver';
  readonly port: number;
  readonly log: string;
  private readonly cp: ControlPlane;
  private readonly component: Component;

  constructor(cp: ControlPlane, component: Component) {
    this.cp = cp;
    this.component = component;
    this.name = component === 'etcd' ? 'etcd' : 'kube-apiserver';
    this.port = Number(new URL(component === 'etcd' ? cp.etcdUrl : cp.server).port);
    this.log = cp.processes[component].log;
  }

  get pid(): number {
    return this.cp.pids[this.component];
  }

  private get binary(): string {
    return this.cp.processes[this.component].binary;
  }

  state(): ProcessState {
    if (!this.pid || !ours(this.pid, this.binary)) return 'gone';
    return procState(this.pid);
  }

  async kill(): Promise<void> {
    if (this.state() === 'gone') return;
    signal(this.pid, 'SIGKILL');
    await until(`${this.name} (pid ${this.pid}) to exit after SIGKILL`, () => this.state() === 'gone');
  }

  async stop(): Promise<void> {
    if (this.state() === 'gone') throw new ControlPlaneError(`${this.name} is not running`);
    signal(this.pid, 'SIGSTOP');
    await until(`${this.name} (pid ${this.pid}) to stop`, () => this.state() !== 'running');
  }

  async cont(): Promise<void> {
    if (this.state() === 'gone') throw new ControlPlaneError(`${this.name} is not running`);
    signal(this.pid, 'SIGCONT');
    await until(`${this.name} (pid ${this.pid}) to continue`, () => this.state() !== 'stopped');
  }

  async restart(): Promise<void> {
    await this.kill();
    await startComponent(this.cp, this.component, false, (pid) => {
      this.cp.pids[this.component] = pid;
    });
  }
}

/**
 * Starts a private control plane in a new directory under faultRoot() (a few seconds once the
 * binaries are built; builds them on first use like `npm run cluster -- build`).
 */
export async function startFaultCluster(options: { binaries?: Binaries } = {}): Promise<FaultCluster> {
  sweepAbandoned();
  const binaries = options.binaries ?? (await ensureBinaries());
  mkdirSync(faultRoot(), { recursive: true });
  let lastError: unknown;
  // A port picked as free can be taken before the server binds it: try a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    // The owner file sits beside the control plane's directory, which startControlPlane empties.
    const root = mkdtempSync(join(faultRoot(), 'fc-'));
    writeFileSync(join(root, 'owner.pid'), String(process.pid));
    const dir = join(root, 'cp');
    const pids: number[] = [];
    // If this process exits without down() (an uncaught error, process.exit), take the
    // processes along. A SIGKILLed worker cannot; sweepAbandoned() catches that next time.
    const onExit = (): void => {
      for (const pid of pids) signal(pid, 'SIGKILL');
    };
    process.on('exit', onExit);
    try {
      const cp = await startControlPlane(dir, binaries, {
        detached: false,
        onSpawned: (c, component) => pids.push(c.pids[component]),
      });
      return makeCluster(root, cp, onExit);
    } catch (e) {
      process.off('exit', onExit);
      onExit();
      rmSync(root, { recursive: true, force: true });
      lastError = e;
      if (!/address already in use/i.test(String(e))) break;
    }
  }
  throw lastError instanceof Error ? lastError : new ControlPlaneError(String(lastError));
}

function makeCluster(root: string, cp: ControlPlane, onExit: () => void): FaultCluster {
  const etcd = new Proc(cp, 'etcd');
  const apiserver = new Proc(cp, 'apiserver');
  // The exit hook must see restarted incarnations too.
  process.off('exit', onExit);
  const mine = (): number[] => processesMentioning(`${root}/`);
  const killAll = (): void => {
    for (const pid of mine()) signal(pid, 'SIGKILL');
  };
  const onExitAfterStart = (): void => {
    killAll();
    rmSync(root, { recursive: true, force: true });
  };
  process.on('exit', onExitAfterStart);
  const ready = async (timeoutMs = 60_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await componentReady(cp, 'apiserver'))) {
      if (Date.now() > deadline)
        throw new ControlPlaneError(`kube-apiserver at ${cp.server} not ready within ${timeoutMs / 1000}s`);
      await sleep(100);
    }
  };
  let isDown = false;
  return {
    dir: root,
    kubeconfig: cp.kubeconfig,
    server: cp.server,
    etcdUrl: cp.etcdUrl,
    controlPlane: cp,
    etcd,
    apiserver,
    ready,
    async heal() {
      for (const p of [etcd, apiserver]) {
        const state = p.state();
        if (state === 'stopped') await p.cont();
        else if (state === 'gone') await p.restart();
      }
      await ready();
    },
    processes: mine,
    async down() {
      if (isDown) return;
      // SIGKILL works on stopped processes too; data is thrown away anyway.
      await apiserver.kill();
      await etcd.kill();
      killAll();
      await until(`processes of ${root} to exit`, () => mine().length === 0);
      rmSync(root, { recursive: true, force: true });
      process.off('exit', onExitAfterStart);
      isDown = true;
    },
  };
}
