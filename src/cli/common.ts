/** Flags shared by the commands that read Git and talk to a cluster. */
import { Option, type Command } from 'commander';
import { AuditLog, type AuditInput } from '../audit/index.ts';

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

export const DEFAULT_AUDIT_LOG = '.tether/audit.jsonl';

export function addAuditFlag(cmd: Command): Command {
  return cmd.option(
    '--audit-log <file>',
    'append a record of this run to this hash-chained audit log',
    DEFAULT_AUDIT_LOG,
  );
}

/** Appends one record and closes the log (fsynced before the command reports done). */
export async function appendAudit(file: string, input: AuditInput): Promise<void> {
  const log = await AuditLog.open(file);
  try {
    await log.append(input);
  } finally {
    await log.close();
  }
}
