import { basename, resolve } from 'node:path';
import { buildApp, isRemoteRepo } from './build.ts';
import { ConfigFlagsError } from './errors.ts';
import { issueToPathIssues } from './issues.ts';
import { isDnsLabel } from './names.ts';
import { normalizeDir, sourceDigest } from '../source/identity.ts';
import { formatPath } from './positions.ts';
import { appSchema } from './schema.ts';
import type { AppConfig } from './types.ts';

export interface AppFlags {
  repo: string;
  ref?: string;
  path?: string;
  namespace?: string;
  /** App name; default: derived from the path, else the repository's name (defaultAppName). */
  app?: string;
  mode?: string;
  prune?: boolean;
  /** ssh private key file (relative: to the working directory). */
  sshKey?: string;
  /** known_hosts file for ssh (relative: to the working directory). */
  knownHosts?: string;
}

const FLAG_OF: Record<string, string> = {
  name: '--app',
  'source.repo': '--repo',
  'source.ref': '--ref',
  'source.path': '--path',
  'destination.namespace': '--namespace',
  'sync.mode': '--mode',
  'sync.prune': '--prune',
  'source.sshKeyFile': '--ssh-key',
  'source.knownHostsFile': '--known-hosts',
};

/**
 * One app from command-line flags, validated like an app in a config file, with the same
 * defaults. A local repository path resolves against the working directory.
 * Throws ConfigFlagsError naming the flag.
 */
export function appFromFlags(flags: AppFlags): AppConfig {
  const raw = {
    name: flags.app ?? defaultAppName(flags.repo, flags.path),
    source: {
      repo: flags.repo,
      ...(flags.ref !== undefined && { ref: flags.ref }),
      ...(flags.path !== undefined && { path: flags.path }),
      ...(flags.sshKey !== undefined && { sshKeyFile: flags.sshKey }),
      ...(flags.knownHosts !== undefined && { knownHostsFile: flags.knownHosts }),
    },
    destination: flags.namespace === undefined ? {} : { namespace: flags.namespace },
    sync: {
      ...(flags.mode !== undefined && { mode: flags.mode }),
      ...(flags.prune !== undefined && { prune: flags.prune }),
    },
  };
  const result = appSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const lines = result.error.issues
      .flatMap((i) => issueToPathIssues(i, appSchema, raw))
      .map((i) => `${FLAG_OF[formatPath(i.path)] ?? formatPath(i.path)}: ${i.message}`);
    throw new ConfigFlagsError(`invalid flags:\n${lines.join('\n')}`, {
      hint: 'fix the flags named above (tether <command> --help lists them)',
    });
  }
  const app = buildApp(result.data, process.cwd());
  if (!isRemoteRepo(flags.repo)) app.source.repo = resolve(flags.repo);
  return app;
}

/**
 * The app name when none is given: derived from what identifies the app, its repository and
 * path, so two apps whose paths end in the same folder never share a name (and an inventory):
 * a readable part, the last segment of the path (`apps/shop` → `shop`) or else the
 * repository's name, then 8 hex digits of the source's identity (`shop-3fa2b1c9`).
 */
export function defaultAppName(repo: string, path?: string): string {
  return `${readableName(repo, path).slice(0, 54).replace(/-+$/, '')}-${sourceDigest(repo, path)}`;
}

/** The readable part of a default name, as a DNS label; `default` when nothing usable is left. */
function readableName(repo: string, path?: string): string {
  const dir = normalizeDir(path);
  const last = dir
    ? basename(dir)
    : basename(repo.replace(/[/\\]+$/, '').replace(/^.*:/, '')).replace(/\.git$/, '');
  const label = last
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return isDnsLabel(label) ? label : 'default';
}
