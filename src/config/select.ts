/**
 * One app of a config file for the CLI (`tether sync --config tether.yaml --app shop`), with
 * the command-line flags given as well laid over it. The flags are validated exactly as an
 * app without a config file would be (appFromFlags), so a bad flag is named the same way.
 */
import { AppSelectionError } from './errors.ts';
import { appFromFlags, type AppFlags } from './flags.ts';
import type { AppConfig, TetherConfig } from './types.ts';

export function selectApp(config: TetherConfig, name: string | undefined): AppConfig {
  const file = config.file ?? 'the config file';
  const names = config.apps.map((a) => a.name);
  if (name === undefined) {
    if (config.apps.length === 1) return config.apps[0]!;
    throw new AppSelectionError(`${file} defines ${names.length} apps (${names.join(', ')}): choose one`, {
      hint: `add --app ${names[0]} (or another of them)`,
    });
  }
  const app = config.apps.find((a) => a.name === name);
  if (!app)
    throw new AppSelectionError(
      `${file} has no app named ${JSON.stringify(name)}; its apps: ${names.join(', ')}`,
      {
        hint: 'pass one of those names with --app',
      },
    );
  return app;
}

export type Overrides = Omit<AppFlags, 'repo' | 'app' | 'mode' | 'prune'> & { repo?: string };

/** The app with the flags that were given replacing its settings. */
export function overrideApp(app: AppConfig, flags: Overrides): AppConfig {
  const given = appFromFlags({
    repo: flags.repo ?? app.source.repo,
    app: app.name,
    ...(flags.ref !== undefined && { ref: flags.ref }),
    ...(flags.path !== undefined && { path: flags.path }),
    ...(flags.namespace !== undefined && { namespace: flags.namespace }),
    ...(flags.sshKey !== undefined && { sshKey: flags.sshKey }),
    ...(flags.knownHosts !== undefined && { knownHosts: flags.knownHosts }),
  });
  return {
    ...app,
    source: {
      ...app.source,
      ...(flags.repo !== undefined && { repo: given.source.repo }),
      ...(flags.ref !== undefined && { ref: given.source.ref! }),
      ...(flags.path !== undefined && { path: given.source.path }),
      ...(flags.sshKey !== undefined && { sshKeyFile: given.source.sshKeyFile! }),
      ...(flags.knownHosts !== undefined && { knownHostsFile: given.source.knownHostsFile! }),
    },
    destination: {
      ...app.destination,
      ...(flags.namespace !== undefined && { namespace: given.destination.namespace }),
    },
  };
}
