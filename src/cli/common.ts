/** Output and audit flags shared by the commands. */
import { Option, type Command } from 'commander';
import { AuditLog, type AuditInput } from '../audit/index.ts';

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
