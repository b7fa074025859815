/** `tether audit` (list and filter records) and `tether audit verify` (check the hash chain). */
import { Command } from 'commander';
import { DESCRIPTIONS } from './commands.ts';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkAnchors,
  parseHead,
  readAuditLog,
  verifyAuditLog,
  type AnchoredHead,
  type AuditFilter,
  type AuditRecord,
} from '../audit/index.ts';
import { chainIdOf, readAnchors } from '../cluster/audit-anchor.ts';
import { KubeClient } from '../cluster/client.ts';
import { parseDuration } from '../config/index.ts';
import { redactUrl, TetherError } from '../errors.ts';
import { AgentUnreachableError } from './status.ts';
import { agentGet } from './agent-http.ts';
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

interface SourceFlags {
  auditLog?: string;
  url?: string;
}

interface ListFlags extends SourceFlags {
  app?: string;
  commit?: string;
  repo?: string;
  object?: string;
  since?: string;
  until?: string;
  result?: string;
  output: 'text' | 'json';
}

interface VerifyFlags extends SourceFlags {
  head?: string;
  kubeconfig?: string;
  context?: string;
  cluster: boolean;
}

export class AuditAnchorMismatchError extends TetherError {}

/**
 * The log to read: --url (the agent's /audit, copied to a private temporary file first, so it
 * is read as one snapshot) or --audit-log. A subcommand's own flag wins over its parent's.
 */
async function withLog<T>(flags: SourceFlags, work: (file: string, label: string) => Promise<T>): Promise<T> {
  if (flags.url && flags.auditLog)
    throw new UsageError('give --url or --audit-log, not both', {
      hint: 'tether audit --url http://127.0.0.1:9090',
    });
  if (!flags.url) {
    const file = flags.auditLog ?? DEFAULT_AUDIT_LOG;
    return work(file, file);
  }
  const url = redactUrl(`${flags.url.replace(/\/$/, '')}/audit`);
  let body: string;
  try {
    body = await (await agentGet(flags.url, '/audit', 60_000)).text();
  } catch (e) {
    throw new AgentUnreachableError(
      `cannot read the audit log: ${redactUrl(e instanceof Error ? e.message : String(e))}`,
      {
        hint: 'check --url: the agent listens where its config says (listen:, default 127.0.0.1:9090)',
      },
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'tether-audit-'));
  try {
    const file = join(dir, 'audit.jsonl');
    await writeFile(file, body, { mode: 0o600 });
    return await work(file, url);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Anchors to check the log against: --head, else the cluster's (when it can be reached). */
async function anchorsFor(
  flags: VerifyFlags,
  chain: string | undefined,
): Promise<{ anchors: AnchoredHead[]; note?: string }> {
  if (flags.head) {
    const head = parseHead(flags.head);
    if (!head)
      throw new UsageError(`--head ${flags.head}: not SEQ:HASH`, {
        hint: 'e.g. --head 42:<64 hex digits> (from /status or tether_audit_head_seq)',
      });
    return { anchors: [{ ...head, source: '--head' }] };
  }
  if (!flags.cluster) return { anchors: [], note: 'not checked against the cluster (--no-cluster)' };
  if (!chain) return { anchors: [] };
  let client: KubeClient | undefined;
  try {
    client = await KubeClient.create({ kubeconfig: flags.kubeconfig, context: flags.context });
    const found = await readAnchors(client, chainIdOf(chain));
    if (found.length === 0)
      return {
        anchors: [],
        note: `no anchor of this log (chain ${chainIdOf(chain)}) in the cluster ${client.server}`,
      };
    return { anchors: found };
  } catch (e) {
    return {
      anchors: [],
      note: `not checked against the cluster: ${redactUrl(e instanceof Error ? e.message : String(e))}`,
    };
  } finally {
    client?.close();
  }
}

async function verify(file: string, label: string, flags: VerifyFlags): Promise<void> {
  const first = await verifyAuditLog(file);
  const { anchors, note } = await anchorsFor(flags, first.first);
  const r = anchors.length ? await verifyAuditLog(file, { seqs: new Set(anchors.map((a) => a.seq)) }) : first;
  if (!r.ok) {
    throw new AuditChainBrokenError(
      `${label}:${r.line}: ${r.reason} (${r.records} good record(s) before it)`,
      {
        hint: 'keep the file for investigation; a torn last line is repaired by the next append',
      },
    );
  }
  const check = checkAnchors(r, anchors);
  if (check.problems.length)
    throw new AuditAnchorMismatchError(
      `${label}: the chain is intact but does not match its anchor:\n  ${check.problems.join('\n  ')}`,
      {
        hint: 'the log was truncated or rewritten since the anchor was written; keep both for investigation',
      },
    );
  const lines = [`ok: ${r.records} record(s), chain intact, head seq ${r.head.seq}:${r.head.hash}`];
  if (check.anchoredSeq !== undefined) {
    const where = [...new Set(anchors.filter((a) => a.seq === check.anchoredSeq).map((a) => a.source))].join(
      ', ',
    );
    lines.push(
      `anchored up to seq ${check.anchoredSeq} (${where}); ${check.unanchored} record(s) after it not anchored`,
    );
  } else if (r.records > 0) lines.push(`not anchored: ${r.records} record(s) (${note ?? 'no anchor found'})`);
  process.stdout.write(lines.join('\n') + '\n');
}

export function auditCommand(): Command {
  const cmd = new Command('audit')
    .description(DESCRIPTIONS.audit)
    .option('--audit-log <file>', `audit log file (default ${DEFAULT_AUDIT_LOG})`)
    .option(
      '--url <url>',
      "read the agent's log over its listener instead (e.g. http://127.0.0.1:9090; with ui.auth, TETHER_AGENT_TOKEN or user:password@ in the URL)",
    )
    .option('--app <name>', 'only this app')
    .option('--commit <sha>', 'only this commit (a prefix is enough; with --repo, any git revision)')
    .option(
      '--repo <url|path>',
      'read --commit as a git revision of this repository (HEAD~1, main, v1.2, a short sha)',
    )
    .option('--object <ref>', 'only records touching this object: name, kind/name or namespace/kind/name')
    .option('--since <when>', 'records at or after: 2026-11-01, an ISO time, or 2h / 7d ago')
    .option('--until <when>', 'records before')
    .option(
      '--result <result>',
      'applied, in-sync, drift-found, drift-healed, pruned, conflict, error, commit-refused, intent, partial or recovered',
    )
    .addOption(outputOption(['text', 'json']))
    .addHelpText(
      'after',
      `
Every write Tether makes is preceded by an 'intent' record and followed by its completion
(details.intent names the intent); a 'recovered' record completes the intent of a process
that died in between.

Examples:
  tether audit --app shop --since 7d
  tether audit --object shop/deployment/web -o json
  tether audit --repo . --commit HEAD~1
  tether audit --url http://127.0.0.1:9090 --result partial
  tether audit verify --audit-log /var/lib/tether/audit.jsonl`,
    )
    .action(async (flags: ListFlags) => {
      if (flags.repo && !flags.commit)
        throw new UsageError('--repo reads --commit: give --commit too', {
          hint: 'tether audit --repo . --commit HEAD~1',
        });
      // The source layer loads only when a revision is to be read.
      const commit =
        flags.repo && flags.commit
          ? (
              await (
                await import('../source/index.ts')
              ).resolveCommit({ repo: flags.repo, ref: flags.commit })
            ).sha
          : flags.commit;
      const filter: AuditFilter = {
        ...(flags.app ? { app: flags.app } : {}),
        ...(commit ? { commit } : {}),
        ...(flags.object ? { object: flags.object } : {}),
        ...(flags.since ? { since: parseWhen(flags.since, '--since') } : {}),
        ...(flags.until ? { until: parseWhen(flags.until, '--until') } : {}),
        ...(flags.result ? { result: flags.result } : {}),
      };
      const records = await withLog(flags, (file) => readAuditLog(file, filter));
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
    .description('check the hash chain of the audit log, and its head against the anchors in the cluster')
    .option('--audit-log <file>', `audit log file (default ${DEFAULT_AUDIT_LOG})`)
    .option('--url <url>', "verify the agent's log, read over its listener")
    .option(
      '--head <seq:hash>',
      'check against this head instead of the cluster (from /status or a saved copy)',
    )
    .option(
      '--kubeconfig <file>',
      'kubeconfig of the cluster holding the anchors (default: as kubectl finds it)',
    )
    .option('--context <name>', 'kubeconfig context')
    .option('--no-cluster', 'do not look for anchors in the cluster')
    .addHelpText(
      'after',
      `
The chain shows a changed, inserted or removed line, but not a deleted tail or a chain
recomputed from scratch: for those, the head is anchored in the cluster (an annotation
audit.tether.dev/<chain> on each app's inventory ConfigMap) after every record of apply mode.
verify reads those anchors when it can reach the cluster and says up to which record the log
is anchored. Exit 0 when the chain is intact and matches every anchor, non-zero otherwise.

Examples:
  tether audit verify --audit-log /var/lib/tether/audit.jsonl --kubeconfig ~/.kube/prod
  tether audit verify --url http://127.0.0.1:9090
  tether audit verify --audit-log audit.jsonl --head 42:3f1c...`,
    )
    .action(async (flags: VerifyFlags, sub: Command) => {
      // Commander hands an option given after "verify" to the parent when both declare it.
      const parent = sub.parent?.opts<SourceFlags>() ?? {};
      const source = { auditLog: flags.auditLog ?? parent.auditLog, url: flags.url ?? parent.url };
      await withLog(source, (file, label) => verify(file, label, flags));
    });
  return cmd;
}
