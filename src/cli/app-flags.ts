/**
 * The flags that define an app on the command line (sync, diff, drift), and the one path
 * from them to the App the pipeline runs: with `--config`, the config's app (chosen by
 * `--app`) with any flag given laid over it, exactly as the agent would run it; without,
 * the flags alone, validated like a config file's app.
 */
import { parseDuration } from '../config/duration.ts';
import type { Command } from 'commander';
import { appFromFlags, loadConfig, overrideApp, selectApp, type AppConfig } from '../config/index.ts';
import type { IgnoreRule } from '../diff/index.ts';
import { appFromConfig, type App } from '../sync/app.ts';
import { KNOWN_HOSTS_HELP, SSH_KEY_HELP } from './common.ts';
import { UsageError } from './output.ts';

export interface AppFlags {
  repo?: string;
  ref?: string;
  path?: string;
  config?: string;
  app?: string;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  ignoreField?: string[];
  ignoreManager?: string[];
  /** sync and diff only. */
  prune?: boolean;
  allowMassPrune?: boolean;
  force?: boolean;
  recreate?: boolean;
  /** sync: how long each sync wave may take to become healthy. */
  waveTimeout?: string;
  adopt?: boolean;
  include?: string[];
  exclude?: string[];
  /** --no-recursive: only the files directly in --path. */
  recursive?: boolean;
  sshKey?: string;
  knownHosts?: string;
}

export function addAppFlags(cmd: Command): Command {
  return cmd
    .option(
      '--repo <url|path>',
      'Git repository: an https:// URL (credentials may sit in it), an ssh:// URL or git@host:org/repo.git, or a local path',
    )
    .option('--ssh-key <file>', SSH_KEY_HELP)
    .option('--known-hosts <file>', KNOWN_HOSTS_HELP)
    .option(
      '--ref <revision>',
      'branch, tag, or commit as git names it: a sha (4+ hex digits), HEAD~N, rev^N (default: the repository HEAD)',
    )
    .option('--path <dir>', 'directory inside the repository holding the manifests (default: the root)')
    .option(
      '--config <file>',
      'run an app of this Tether config file as the agent does (its source, credentials, destination, ignore rules, prune and conflict policy); flags given as well override it',
    )
    .option(
      '--app <name>',
      'app name, recorded in the tether.dev/app label and the inventory; with --config, which app to run (default: derived from the repository and --path, e.g. shop-3fa2b1c9)',
    )
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .option(
      '-n, --namespace <ns>',
      "namespace for namespaced objects that name none (default: the config's destination, else the kubeconfig context's namespace, else default)",
    )
    .option(
      '--include <glob...>',
      "only the files matching these globs, relative to --path (e.g. '*.yaml' 'base/**'); replaces the config's source.include",
    )
    .option(
      '--exclude <glob...>',
      "leave out the files matching these globs, relative to --path (e.g. 'setup/**'); replaces the config's source.exclude",
    )
    .option(
      '--no-recursive',
      'only the files directly in --path, not in its subdirectories (other apps may live there)',
    )
    .option(
      '--ignore-field <path...>',
      "never report or apply this field (e.g. .spec.replicas or /spec/replicas); added to the config's ignore rules",
    )
    .option(
      '--ignore-manager <name...>',
      "never report or apply fields this field manager owns (e.g. an autoscaler); added to the config's ignore rules",
    );
}

/** --ignore-field and --ignore-manager as ignore rules (each flag is a rule of its own). */
export function ignoreRulesFromFlags(flags: AppFlags): IgnoreRule[] {
  return [
    ...(flags.ignoreField?.length ? [{ paths: flags.ignoreField }] : []),
    ...(flags.ignoreManager?.length ? [{ managers: flags.ignoreManager }] : []),
  ];
}

export interface CommandApp {
  app: App;
  /** No -n and no config: the namespace is the kubeconfig context's, known once connected. */
  namespaceFromContext: boolean;
}

async function configuredApp(flags: AppFlags, command: string): Promise<AppConfig> {
  if (flags.config) {
    const app = selectApp(await loadConfig(flags.config), flags.app);
    return overrideApp(app, flags);
  }
  if (!flags.repo) {
    throw new UsageError('--repo (or --config) is required', {
      hint: `tether ${command} --repo https://git.example.com/org/deploy.git --path apps/shop -n shop, or tether ${command} --config tether.yaml --app shop`,
    });
  }
  return appFromFlags({
    repo: flags.repo,
    ...(flags.ref !== undefined && { ref: flags.ref }),
    ...(flags.path !== undefined && { path: flags.path }),
    ...(flags.namespace !== undefined && { namespace: flags.namespace }),
    ...(flags.app !== undefined && { app: flags.app }),
    ...(flags.sshKey !== undefined && { sshKey: flags.sshKey }),
    ...(flags.knownHosts !== undefined && { knownHosts: flags.knownHosts }),
  });
}

export async function appFromCommand(flags: AppFlags, command: string): Promise<CommandApp> {
  const config = await configuredApp(flags, command);
  const app = await appFromConfig(config);
  const s = app.settings;
  const exclude = [...(flags.exclude ?? app.exclude ?? []), ...(flags.recursive === false ? ['*/**'] : [])];
  const include = flags.include ?? app.include;
  return {
    app: {
      ...app,
      ...(include ? { include } : {}),
      ...(exclude.length ? { exclude } : {}),
      destination: {
        ...app.destination,
        ...(flags.kubeconfig !== undefined && { kubeconfig: flags.kubeconfig }),
        ...(flags.context !== undefined && { context: flags.context }),
      },
      settings: {
        prune: flags.prune ?? s.prune,
        conflicts: flags.force ? 'force' : s.conflicts,
        ignore: [...s.ignore, ...ignoreRulesFromFlags(flags)],
        allowMassPrune: flags.allowMassPrune ?? s.allowMassPrune,
        recreate: flags.recreate ?? s.recreate,
        adopt: flags.adopt ?? s.adopt,
        ...(flags.waveTimeout !== undefined
          ? { waveTimeoutMs: parseDuration(flags.waveTimeout) }
          : s.waveTimeoutMs !== undefined
            ? { waveTimeoutMs: s.waveTimeoutMs }
            : {}),
      },
    },
    namespaceFromContext: !flags.config && flags.namespace === undefined,
  };
}
