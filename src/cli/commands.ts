/**
 * The commands of `tether`, light: names, one-line descriptions and how to load each. main.ts
 * loads only the command that runs (its module pulls in the cluster client, Git, the audit
 * log...), so `tether --help` and a typo cost no more than commander itself. Each command's
 * module takes its description from here, so the listing and the command agree.
 */
import type { Command } from 'commander';

export const DESCRIPTIONS = {
  sync: 'apply the manifests of a Git commit to the cluster with server-side apply',
  diff: 'show what applying a Git ref would change in the live cluster (server-side dry-run)',
  drift: 'report how the live cluster differs from Git, and who changed each field',
  agent:
    'run Tether continuously for the apps of a config file and the App resources (poll, webhooks, watch, apply or report)',
  audit: 'list the audit log: what Tether applied, healed, pruned or found, per commit',
  status: "show each app's tracked ref, last seen and applied commit, state, last error and next poll",
  revert: 'write the revert of a commit on top of the tracked branch (and push it), for rollback through Git',
  get: 'list App resources (apps.tether.dev) with their Ready state, commit and health, from the API server',
  reconcile: 'reconcile an App resource now (tether reconcile app NAME) and wait for the result',
  suspend: 'stop reconciling an App resource (spec.suspend: true) until it is resumed',
  resume: 'reconcile a suspended App resource again (spec.suspend: false)',
  version: "print the client's version and, if the cluster answers, the server's",
  'install-crds': "install the CustomResourceDefinition of Tether's App resource (apps.tether.dev)",
  completion: 'print a shell completion script (bash, zsh or fish)',
} as const;

export type CommandName = keyof typeof DESCRIPTIONS;

/** Loads one command's full definition (options, help, action). */
export const LOADERS: Record<Exclude<CommandName, 'completion'>, () => Promise<Command>> = {
  sync: async () => (await import('./sync.ts')).syncCommand(),
  diff: async () => (await import('./diff.ts')).diffCommand(),
  drift: async () => (await import('./drift.ts')).driftCommand(),
  agent: async () => (await import('./agent.ts')).agentCommand(),
  audit: async () => (await import('./audit.ts')).auditCommand(),
  status: async () => (await import('./status.ts')).statusCommand(),
  revert: async () => (await import('./revert.ts')).revertCommand(),
  get: async () => (await import('./apps.ts')).getCommand(),
  reconcile: async () => (await import('./apps.ts')).reconcileCommand(),
  suspend: async () => (await import('./apps.ts')).suspendCommand(),
  resume: async () => (await import('./apps.ts')).resumeCommand(),
  version: async () => (await import('./version.ts')).versionCommand(),
  'install-crds': async () => (await import('./install-crds.ts')).installCrdsCommand(),
};

export function isCommandName(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(DESCRIPTIONS, name);
}
