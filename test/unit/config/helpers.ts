import { ConfigErrors, parseConfig, type AppConfig } from '../../../src/config/index.ts';

/**
 * The app that a repository and nothing else makes, spelled out: every default of the config
 * file (what parseConfig fills in and appFromFlags starts from).
 */
export function defaultApp(name: string, repo: string): AppConfig {
  return {
    name,
    source: { repo, path: '.', intervalMs: 60_000, exclude: [], verify: { mode: 'off' } },
    destination: { namespace: 'default' },
    sync: {
      mode: 'apply',
      prune: false,
      conflicts: 'report',
      pruneGuard: true,
      suspend: false,
      ignore: [],
      waveTimeoutMs: 300_000,
    },
    render: { allowCommands: false, allowRemoteBases: false },
    notifications: [],
  };
}

/** The error lines parseConfig reports for `text` (file `file`), or a failure when it accepts it. */
export function configProblems(text: string, file = 'tether.yaml'): string[] {
  try {
    parseConfig(text, file);
  } catch (err) {
    if (!(err instanceof ConfigErrors)) throw err;
    return err.message.split('\n').slice(1);
  }
  throw new Error('config was accepted');
}
