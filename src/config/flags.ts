import { basename, resolve } from 'node:path';
import { buildApp, isRemoteRepo } from './build.ts';
import { ConfigFlagsError } from './errors.ts';
import { issueToPathIssues } from './issues.ts';
import { isDnsLabel } from './names.ts';
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
}

const FLAG_OF: Record<string, string> = {
  name: '--app',
  'source.repo': '--repo',
  'source.ref': '--ref',
  'source.path': '--path',
  'destination.namespace': '--namespace',
  'sync.mode': '--mode',
  'sync.prune': '--prune',
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
      .flatMap((i) => issueToPathIssues(i, appSchema))
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
 * The app name when none is given: the last segment of the manifests path (`apps/shop` →
 * `shop`), else the repository's name (`https://host/org/deploy.git` → `deploy`), as a DNS
 * label; `default` when nothing usable is left.
 */
export function defaultAppName(repo: string, path?: string): string {
  const dir = (path ?? '').replace(/^\.\/?/, '').replace(/\/+$/, '');
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
