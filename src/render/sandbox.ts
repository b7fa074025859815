/**
 * Runs a renderer inside bubblewrap (bwrap) when the machine allows it: new user, PID, IPC
 * and network namespaces, a root filesystem holding only /usr (programs and libraries), the
 * renderer binary, the commit's files (read-only) and the render's own scratch directory.
 * So a kustomization or chart can read nothing else of the agent (its config, tokens,
 * kubeconfig, other apps' files) and reach no network, unless the app allows remote bases,
 * which shares the network and the TLS trust store. Where bwrap is missing or user
 * namespaces are forbidden (some container runtimes' seccomp profiles), renderers run
 * unsandboxed and the reference checks (kustomize-refs.ts, helm.ts) still hold.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { findOnPath } from './tools.ts';

export interface SandboxSpec {
  /** Read-only: the commit's files, the renderer binary. */
  readOnly: string[];
  /** Writable: the render's scratch directory (HOME, values, wrapper). */
  writable: string[];
  network: boolean;
  cwd: string;
}

// /etc/alternatives: Debian's update-alternatives links programs in /usr/bin through it.
const ROOT_DIRS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc/alternatives'];
const NETWORK_FILES = [
  '/etc/resolv.conf',
  '/etc/hosts',
  '/etc/nsswitch.conf',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/gitconfig',
];

let probed: string | null | undefined;

/** bwrap's path when it works here (probed once), else null. TETHER_RENDER_SANDBOX=off turns it off. */
export function sandboxProgram(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env['TETHER_RENDER_SANDBOX'] === 'off') return null;
  if (probed !== undefined) return probed;
  const bwrap = findOnPath('bwrap', env['PATH'] ?? '') ?? findOnPath('bwrap', '/usr/bin:/usr/local/bin');
  probed = null;
  if (bwrap) {
    const r = spawnSync(bwrap, [...baseArgs(false), '--', '/usr/bin/true'], {
      timeout: 10_000,
      stdio: 'ignore',
    });
    if (r.status === 0) probed = bwrap;
  }
  return probed;
}

function baseArgs(network: boolean): string[] {
  const args = ['--unshare-all', ...(network ? ['--share-net'] : []), '--die-with-parent', '--new-session'];
  args.push('--ro-bind', '/usr', '/usr');
  for (const dir of ROOT_DIRS) {
    if (!existsSync(dir)) continue;
    const st = lstatSync(dir);
    if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else args.push('--ro-bind', dir, dir);
  }
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  if (network) for (const f of NETWORK_FILES) if (existsSync(f)) args.push('--ro-bind', f, f);
  return args;
}

/** argv that runs `argv` in the sandbox, or `argv` itself when there is none. */
export function sandboxed(argv: readonly string[], spec: SandboxSpec, bwrap: string | null): string[] {
  if (!bwrap) return [...argv];
  const args = baseArgs(spec.network);
  for (const p of spec.readOnly) if (!p.startsWith('/usr/')) args.push('--ro-bind', p, p);
  for (const p of spec.writable) args.push('--bind', p, p);
  args.push('--chdir', spec.cwd, '--');
  return [bwrap, ...args, ...argv];
}
