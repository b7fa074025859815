import type { AppConfig } from '../../../src/config/index.ts';

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
