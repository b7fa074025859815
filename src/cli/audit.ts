/** `tether audit` (list and filter records) and `tether audit verify` (check the hash chain). */
import { Command } from 'commander';
import { readAuditLog, verifyAuditLog, type AuditFilter, type AuditRecord } from '../audit/index.ts';
import { parseDuration } from '../config/index.ts';
import { TetherError } from '../errors.ts';
import { shortSha } from '../util/sha.ts';
import { DEFAULT_AUDIT_LOG, outputOption } from './common.ts';
import { UsageError } from './output.ts';
import { relativeTime, table } from './table.ts';

export class AuditChainBrokenError extends TetherError {}

/** `2026-11-01`, an ISO time, or a duration back from now (`2h`, `7d`). */
function parseWhen(text: string, flag: string): Date {
  const days = /^(\d+)d$/.exec(text);
  if (days) return new Date(Date.now() - Number(days[1]) * 86_400_000);
  if (/^\d+(ms|s|m|h)/.test(text)) return new Date(Date.now() - parseDuration(text));
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new UsageError(`${flag} ${text}: not a time`, {
      hint: 'use 2026-11-01, 2026-11-01T10:00:00Z, 2h or 7d',
    });
  return new Date(t);
}

function objectsSummary(r: AuditRecord): string {
  if (r.error) return r.error.split('\n')[0]!.slice(0, 100);
  const counts = new Map<string, number>();
  for (const o of r.objects) counts.set(o.action, (counts.get(o.action) ?? 0) + 1);
  const parts = [...counts].map(([a, n]) => `${n} ${a}`);
  if (r.revertOf) parts.push(`reverts ${shortSha(r.revertOf)}`);
  return parts.join(', ');
}

interface ListFlags {
  auditLog: string;
  app?: string;
  commit?: string;
  object?: string;
  since?: string;
  until?: string;
  result?: string;
  output: 'text' | 'json';
}

export function auditCommand(): Command {
  const cmd = new Command('audit')
    .description('list the audit log: what Tether applied, healed, pruned or found, per commit')
    .option('--audit-log <file>', 'audit log file', DEFAULT_AUDIT_LOG)
    .option('--app <name>', 'only this app')
    .option('--commit <sha>', 'only this commit (a prefix is enough)')
    .option('--object <ref>', 'only records touching this object: name, kind/name or namespace/kind/name')
    .option('--since <when>', 'records at or after: 2026-11-01, an ISO time, or 2h / 7d ago')
    .option('--until <when>', 'records before')
    .option(
      '--result <result>',
      'applied, in-sync, drift-found, drift-healed, pruned, conflict, error or commit-refused',
    )
    .addOption(outputOption(['text', 'json']))
    .addHelpText(
      'after',
      `
Examples:
  tether audit --app shop --since 7d
  tether audit --object shop/deployment/web -o json
  tether audit verify --audit-log /var/lib/tether/audit.jsonl`,
    )
    .action(async (flags: ListFlags) => {
      const filter: AuditFilter = {
        ...(flags.app ? { app: flags.app } : {}),
        ...(flags.commit ? { commit: flags.commit } : {}),
        ...(flags.object ? { object: flags.object } : {}),
        ...(flags.since ? { since: parseWhen(flags.since, '--since') } : {}),
        ...(flags.until ? { until: parseWhen(flags.until, '--until') } : {}),
        ...(flags.result ? { result: flags.result } : {}),
      };
      const records = await readAuditLog(flags.auditLog, filter);
      if (flags.output === 'json') {
        process.stdout.write(JSON.stringify(records, null, 2) + '\n');
        return;
      }
      process.stdout.write(
        table(
          ['SEQ', 'WHEN', 'APP', 'COMMIT', 'TRIGGER', 'MODE', 'RESULT', 'OBJECTS', 'MESSAGE'],
          records.map((r) => [
            String(r.seq),
            relativeTime(r.time),
            r.app,
            r.commit ? shortSha(r.commit.sha) : '-',
            r.trigger,
            r.mode,
            r.result,
            objectsSummary(r),
            r.commit?.message.split('\n')[0]!.slice(0, 60) ?? '',
          ]),
        ),
      );
    });
  cmd
    .command('verify')
    .description('check the hash chain of the audit log; names the first bad line')
    .option('--audit-log <file>', 'audit log file', DEFAULT_AUDIT_LOG)
    .action(async (flags: { auditLog: string }) => {
      const r = await verifyAuditLog(flags.auditLog);
      if (r.ok) {
        process.stdout.write(`ok: ${r.records} record(s), chain intact\n`);
        return;
      }
      throw new AuditChainBrokenError(
        `${flags.auditLog}:${r.line}: ${r.reason} (${r.records} good record(s) before it)`,
        {
          hint: 'keep the file for investigation; a torn last line is repaired by the next append',
        },
      );
    });
  return cmd;
}
