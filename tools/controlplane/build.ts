/**
 * Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok from the Go
 * module proxy through the wrapper modules in tools/etcd, tools/kube-apiserver (all three
 * Kubernetes commands from one k8s.io/kubernetes) and tools/kwok, once, into a cache outside
 * the repository keyed by version and by a hash of the wrapper module (so a version bump
 * rebuilds).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, repoRoot } from './paths.ts';

export const KUBE_VERSION = 'v1.36.3';
export const ETCD_VERSION = 'v3.6.16';
export const HELM_VERSION = 'v4.3.1';
/** Pinned by tools/image/go.mod (the same kustomize the agent image ships). */
export const KUSTOMIZE_VERSION = 'v5.8.2';
/** Simulated nodes and pod lifecycle for the local control plane (tools/kwok/go.mod). */
export const KWOK_VERSION = 'v0.8.0';
/** Flux, the peer of `npm run bench -- --peer flux` (tools/flux-*: why these versions). */
export const FLUX_SOURCE_CONTROLLER_VERSION = 'v1.9.6';
export const FLUX_KUSTOMIZE_CONTROLLER_VERSION = 'v1.9.4';

export interface Binaries {
  kubeApiserver: string;
  etcd: string;
}

/** The components that make workloads roll out: controllers, scheduler, simulated nodes. */
export interface ControllerBinaries {
  kubeControllerManager: string;
  kubeScheduler: string;
  kwok: string;
}

export class ControlPlaneBuildError extends Error {}

interface Component {
  name:
    | 'etcd'
    | 'kube-apiserver'
    | 'kube-controller-manager'
    | 'kube-scheduler'
    | 'kwok'
    | 'helm'
    | 'kustomize'
    | 'flux-source-controller'
    | 'flux-kustomize-controller';
  version: string;
  envVar: string;
  moduleDir: string;
  pkg: string;
  ldflags: string;
}

// Without these the Kubernetes commands report v0.0.0 and clients warn about version skew.
const kubeLdflags = [
  '-s -w',
  `-X k8s.io/component-base/version.gitVersion=${KUBE_VERSION}`,
  `-X k8s.io/component-base/version.gitMajor=1`,
  `-X k8s.io/component-base/version.gitMinor=${KUBE_VERSION.split('.')[1]}`,
  '-X k8s.io/component-base/version.gitTreeState=clean',
].join(' ');

const components: Component[] = [
  {
    name: 'etcd',
    version: ETCD_VERSION,
    envVar: 'TETHER_ETCD',
    moduleDir: join(repoRoot, 'tools', 'etcd'),
    pkg: '.',
    ldflags: '-s -w',
  },
  {
    name: 'kube-apiserver',
    version: KUBE_VERSION,
    envVar: 'TETHER_KUBE_APISERVER',
    moduleDir: join(repoRoot, 'tools', 'kube-apiserver'),
    pkg: 'k8s.io/kubernetes/cmd/kube-apiserver',
    ldflags: kubeLdflags,
  },
  {
    name: 'kube-controller-manager',
    version: KUBE_VERSION,
    envVar: 'TETHER_KUBE_CONTROLLER_MANAGER',
    moduleDir: join(repoRoot, 'tools', 'kube-apiserver'),
    pkg: 'k8s.io/kubernetes/cmd/kube-controller-manager',
    ldflags: kubeLdflags,
  },
  {
    name: 'kube-scheduler',
    version: KUBE_VERSION,
    envVar: 'TETHER_KUBE_SCHEDULER',
    moduleDir: join(repoRoot, 'tools', 'kube-apiserver'),
    pkg: 'k8s.io/kubernetes/cmd/kube-scheduler',
    ldflags: kubeLdflags,
  },
  {
    name: 'kwok',
    version: KWOK_VERSION,
    envVar: 'TETHER_KWOK',
    moduleDir: join(repoRoot, 'tools', 'kwok'),
    pkg: 'sigs.k8s.io/kwok/cmd/kwok',
    ldflags: `-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION}`,
  },
  {
    name: 'helm',
    version: HELM_VERSION,
    envVar: 'TETHER_HELM',
    moduleDir: join(repoRoot, 'tools', 'helm'),
    pkg: 'helm.sh/helm/v4/cmd/helm',
    // As helm's own Makefile sets them for a release build: `helm version` then reports the tag.
    ldflags: [
      '-s -w',
      `-X helm.sh/helm/v4/internal/version.version=${HELM_VERSION}`,
      '-X helm.sh/helm/v4/internal/version.metadata=',
      '-X helm.sh/helm/v4/internal/version.gitTreeState=clean',
    ].join(' '),
  },
  {
    // The renderer of kustomize apps in the tests, the same module the image builds.
    name: 'kustomize',
    version: KUSTOMIZE_VERSION,
    envVar: 'TETHER_KUSTOMIZE',
    moduleDir: join(repoRoot, 'tools', 'image'),
    pkg: 'sigs.k8s.io/kustomize/kustomize/v5',
    ldflags: `-s -w -X sigs.k8s.io/kustomize/api/provenance.version=${KUSTOMIZE_VERSION}`,
  },
  {
    // Flux's controllers, built only for the benchmark's peer (`--peer flux`).
    name: 'flux-source-controller',
    version: FLUX_SOURCE_CONTROLLER_VERSION,
    envVar: 'TETHER_FLUX_SOURCE_CONTROLLER',
    moduleDir: join(repoRoot, 'tools', 'flux-source-controller'),
    pkg: 'github.com/fluxcd/source-controller',
    ldflags: '-s -w',
  },
  {
    name: 'flux-kustomize-controller',
    version: FLUX_KUSTOMIZE_CONTROLLER_VERSION,
    envVar: 'TETHER_FLUX_KUSTOMIZE_CONTROLLER',
    moduleDir: join(repoRoot, 'tools', 'flux-kustomize-controller'),
    pkg: 'github.com/fluxcd/kustomize-controller',
    ldflags: '-s -w',
  },
];

function moduleHash(dir: string): string {
  const h = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go', 'tools.go']) {
    const p = join(dir, f);
    if (existsSync(p)) h.update(f).update(readFileSync(p));
  }
  return h.digest('hex').slice(0, 12);
}

function goEnv(): NodeJS.ProcessEnv {
  return { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' };
}

function checkGo(): void {
  const r = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new ControlPlaneBuildError(
      'Go is not installed (or not on PATH), and it is needed to build the local control plane ' +
        '(etcd and kube-apiserver from the Go module proxy).\n' +
        'Either install Go 1.26+, or point Tether at binaries you already have:\n' +
        '  export TETHER_KUBE_APISERVER=/path/to/kube-apiserver TETHER_ETCD=/path/to/etcd TETHER_HELM=/path/to/helm\n' +
        'or run the integration tests against an existing cluster (kind, k3d, a real one):\n' +
        '  export TETHER_TEST_KUBECONFIG=/path/to/kubeconfig',
    );
  }
}

function run(cmd: string, args: string[], cwd: string, onLine?: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: goEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let partial = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const text = partial + d.toString();
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        err += l + '\n';
        onLine?.(l);
      }
      if (err.length > 200_000) err = err.slice(-100_000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else
        reject(
          new ControlPlaneBuildError(`${cmd} ${args.join(' ')} failed (exit ${code}):\n${err.slice(-4000)}`),
        );
    });
  });
}

/** Progress on a terminal is one rewritten line; in CI, a line every 20 seconds. */
function progress(label: string): { tick(text: string): void; done(text: string): void } {
  const tty = process.stderr.isTTY;
  let last = 0;
  return {
    tick(text) {
      if (tty) {
        process.stderr.write(`\r\x1b[K${label}: ${text}`);
      } else if (Date.now() - last > 20_000) {
        last = Date.now();
        process.stderr.write(`${label}: ${text}\n`);
      }
    },
    done(text) {
      process.stderr.write(`${tty ? '\r\x1b[K' : ''}${label}: ${text}\n`);
    },
  };
}

async function build(c: Component, target: string): Promise<void> {
  checkGo();
  const p = progress(`[tether] building ${c.name} ${c.version}`);
  const started = Date.now();
  p.done('first use: downloading modules and compiling, this takes a few minutes (cached afterwards)');
  p.tick('downloading modules');
  await run('go', ['mod', 'download'], c.moduleDir);
  p.tick('listing packages');
  const total = (await run('go', ['list', '-deps', c.pkg], c.moduleDir)).split('\n').filter(Boolean).length;
  let compiled = 0;
  const tmp = `${target}.tmp-${process.pid}`;
  await run(
    'go',
    ['build', '-v', '-trimpath', '-ldflags', c.ldflags, '-o', tmp, c.pkg],
    c.moduleDir,
    (line) => {
      if (!line || line.startsWith('#')) return;
      compiled++;
      p.tick(`${compiled}/${total} packages (${Math.round((Date.now() - started) / 1000)}s)`);
    },
  );
  renameSync(tmp, target);
  p.done(`built in ${Math.round((Date.now() - started) / 1000)}s -> ${target}`);
}

/** The path of one tool: its environment variable, else the cached build (built on first use). */
export async function ensureTool(name: Component['name']): Promise<string> {
  const c = components.find((x) => x.name === name)!;
  const fromEnv = process.env[c.envVar];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new ControlPlaneBuildError(`${c.envVar}=${fromEnv}: no such file`);
    return fromEnv;
  }
  const binDir = join(cacheRoot(), 'bin');
  mkdirSync(binDir, { recursive: true });
  const target = join(binDir, `${c.name}-${c.version}-${moduleHash(c.moduleDir)}`);
  if (!existsSync(target)) {
    try {
      await build(c, target);
    } catch (e) {
      rmSync(`${target}.tmp-${process.pid}`, { force: true });
      throw e;
    }
  }
  return target;
}

/** Returns paths to etcd and kube-apiserver, building them on first use. */
export async function ensureBinaries(): Promise<Binaries> {
  return { etcd: await ensureTool('etcd'), kubeApiserver: await ensureTool('kube-apiserver') };
}

/** Returns paths to kube-controller-manager, kube-scheduler and kwok, building them on first use. */
export async function ensureControllerBinaries(): Promise<ControllerBinaries> {
  return {
    kubeControllerManager: await ensureTool('kube-controller-manager'),
    kubeScheduler: await ensureTool('kube-scheduler'),
    kwok: await ensureTool('kwok'),
  };
}

/** Returns the path to helm (for the chart tests), building it on first use. */
export function ensureHelm(): Promise<string> {
  return ensureTool('helm');
}

/** Returns the path to kustomize (for the renderer tests), building it on first use. */
export function ensureKustomize(): Promise<string> {
  return ensureTool('kustomize');
}
