/** Helpers for integration tests: a namespace per test, kubectl, and the tether CLI as a user runs it. */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { collect, type ProcessResult } from './process.ts';

const exec = promisify(execFile);
export const repoRoot = resolve(import.meta.dirname, '..', '..');

export function kubeconfig(): string {
  return inject('kubeconfig');
}

export async function kubectl(args: string[], input?: string): Promise<string> {
  const child = exec('kubectl', ['--kubeconfig', kubeconfig(), ...args], { maxBuffer: 64 << 20 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  return (await child).stdout;
}

/** kubectl as a user runs it, never throwing: the exit code and both outputs, for refusals. */
export function kubectlResult(args: string[], input?: string, file = kubeconfig()): Promise<ProcessResult> {
  const child = spawn('kubectl', ['--kubeconfig', file, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(input ?? '');
  return collect(child);
}

export async function kubectlJson<T = Record<string, unknown>>(args: string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json', '--show-managed-fields'])) as T;
}

/** `kubectl -n <namespace> get <resource> <name> -o jsonpath=<path>`: fields of one live object, as text. */
export function jsonpath(namespace: string, resource: string, name: string, path: string): Promise<string> {
  return kubectl(['-n', namespace, 'get', resource, name, '-o', `jsonpath=${path}`]);
}

/** A fresh namespace with a unique name; delete it with the returned function. */
export async function createNamespace(prefix = 't'): Promise<{ name: string; cleanup: () => Promise<void> }> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await kubectl(['create', 'namespace', name]);
  return {
    name,
    cleanup: async () => {
      await kubectl(['delete', 'namespace', name, '--wait=false', '--ignore-not-found']);
    },
  };
}

/**
 * A kubeconfig that acts as `user` through impersonation (`as:`): the admin's credentials,
 * the user's permissions (none beyond discovery until a test binds a Role to it).
 */
export async function impersonatingKubeconfig(user: string): Promise<string> {
  const config = JSON.parse(
    await kubectl(['config', 'view', '--raw', '--minify', '--flatten', '-o', 'json']),
  ) as {
    users: { user: Record<string, unknown> }[];
  };
  for (const u of config.users) u.user.as = user;
  const file = join(mkdtempSync(join(tmpdir(), 'tether-as-')), 'kubeconfig');
  writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  return file;
}

let state: string | undefined;
/** One XDG state directory for this test process, so tests never write into the user's. */
function stateHome(): string {
  state ??= mkdtempSync(join(tmpdir(), 'tether-state-'));
  return state;
}

export type CliResult = ProcessResult;

/**
 * Runs `tether` exactly as a user would (bin/tether.js on this Node), never throwing on
 * failure; `cwd` runs it from another directory.
 */
export function tether(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<CliResult> {
  const child = spawn(process.execPath, [resolve(repoRoot, 'bin/tether.js'), ...args], {
    ...(cwd ? { cwd } : {}),
    // The CLI's default audit log lives in the XDG state directory: a private one per test run.
    env: { ...process.env, KUBECONFIG: kubeconfig(), NO_COLOR: '1', XDG_STATE_HOME: stateHome(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return collect(child);
}

/** The API server's own request counters (apiserver_request_total), summed by verb and dry_run. */
export async function apiServerRequests(filter: {
  verb: string;
  dryRun: boolean;
  resource?: string;
}): Promise<number> {
  const text = await kubectl(['get', '--raw', '/metrics']);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels: Record<string, string> = Object.fromEntries(
      [...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    if (labels.verb !== filter.verb) continue;
    if ((labels.dry_run === 'All') !== filter.dryRun) continue;
    if (filter.resource && labels.resource !== filter.resource) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
