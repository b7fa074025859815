/** Flags shared by the commands that read Git and talk to a cluster. */
import { Option, type Command } from 'commander';

export interface SourceFlags {
  repo?: string;
  ref?: string;
  path?: string;
  config?: string;
}

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export function addSourceFlags(cmd: Command): Command {
  return cmd
    .option(
      '--repo <url|path>',
      'Git repository: an https:// URL (credentials may sit in it) or a local path',
    )
    .option('--ref <ref>', 'branch, tag or commit sha to read (default: the repository HEAD)')
    .option('--path <dir>', 'directory inside the repository holding the manifests (default: the root)')
    .option('--config <file>', 'Tether config file (apps, sources, destinations)');
}

export function addClusterFlags(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('-n, --namespace <ns>', 'namespace for namespaced objects that name none', 'default');
}

export function outputOption(formats: string[]): Option {
  return new Option('-o, --output <format>', 'output format').choices(formats).default('text');
}

/** Colour only on a terminal, and never with NO_COLOR set (no-color.org). */
export function useColor(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
}
