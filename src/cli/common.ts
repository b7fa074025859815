/** Output and audit flags shared by the commands. */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { Option, type Command } from 'commander';
import { AuditLog, type AuditInput } from '../audit/index.ts';

export function outputOption(formats: string[]): Option {
  return new Option('-o, --output <format>', 'output format').choices(formats).default('text');
}

/** Colour only on a terminal, and never with NO_COLOR set (no-color.org). */
export function useColor(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
}

/**
 * Where the CLI commands keep their audit log unless --audit-log says otherwise: the XDG state
 * directory ($XDG_STATE_HOME/tether/audit.jsonl, else ~/.local/state/tether/audit.jsonl), never
 * the working directory, which is usually a Git checkout the log would end up committed into.
 * Read from the environment when the command runs. The agent uses its config's auditLog.
 */
export function defaultAuditLog(env: NodeJS.ProcessEnv = process.env, home: () => string = homedir): string {
  const state = env.XDG_STATE_HOME;
  // The XDG spec: a relative path in the variable is invalid and is ignored.
  const dir = state && isAbsolute(state) ? state : join(home(), '.local', 'state');
  return join(dir, 'tether', 'audit.jsonl');
}

export const DEFAULT_AUDIT_LOG = defaultAuditLog();

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

/** Help of --ssh-key and --known-hosts (sync, diff, drift and revert). */
export const SSH_KEY_HELP =
  'for an ssh repository: the private key to log in with (never printed; a key other users may read is copied to a private file first)';
export const KNOWN_HOSTS_HELP =
  "for an ssh repository: the known_hosts file the server's host key must be in (checked strictly; default ~/.ssh/known_hosts)";
