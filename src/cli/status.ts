/** `tether status`: what the agent is doing, per app, read from its /status endpoint. */
import { Command } from 'commander';
import { DESCRIPTIONS } from './commands.ts';
import type { AppStatus } from '../agent/app-runner.ts';
import { redactUrl, TetherError } from '../errors.ts';
import { agentGet } from './agent-http.ts';
import { shortSha } from '../util/sha.ts';
import { outputOption, useColor } from './common.ts';
import { serialize } from './result-json.ts';
import { relativeTime, table } from './table.ts';

interface StatusBody {
  identity: string;
  leader: boolean;
  apps: AppStatus[];
}

export class AgentUnreachableError extends TetherError {}

const COLORS: Record<string, string> = {
  'in-sync': '\x1b[32m',
  drifted: '\x1b[33m',
  conflict: '\x1b[33m',
  error: '\x1b[31m',
};

export function statusCommand(): Command {
  return new Command('status')
    .description(DESCRIPTIONS.status)
    .option('--url <url>', 'base URL of the agent', 'http://127.0.0.1:9090')
    .addOption(outputOption(['text', 'json', 'yaml']))
    .addHelpText(
      'after',
      '\nAn agent whose config sets ui.auth wants credentials: a bearer token in TETHER_AGENT_TOKEN, or\nuser:password in the URL (basic auth).\n\nExamples:\n  tether status\n  tether status --url http://tether.tether-system:9090 -o json',
    )
    .action(async (flags: { url: string; output: 'text' | 'json' | 'yaml' }) => {
      let body: StatusBody;
      try {
        body = (await (await agentGet(flags.url, '/status', 10_000)).json()) as StatusBody;
      } catch (e) {
        throw new AgentUnreachableError(`cannot read the agent status: ${redactUrl((e as Error).message)}`, {
          hint: 'is `tether agent` running, and listening there? pass its address with --url',
        });
      }
      if (flags.output === 'json' || flags.output === 'yaml') {
        process.stdout.write(serialize(body, flags.output));
        return;
      }
      const color = useColor();
      const paint = (s: string) => (color && COLORS[s] ? `${COLORS[s]}${s}\x1b[0m` : s);
      process.stdout.write(
        `agent ${body.identity}${body.leader ? '' : ' (standby: another replica leads)'}\n`,
      );
      process.stdout.write(
        table(
          [
            'APP',
            'MODE',
            'STATE',
            'HEALTH',
            'REF',
            'SEEN',
            'APPLIED',
            'LAST RECONCILE',
            'NEXT POLL',
            'LAST ERROR',
          ],
          body.apps.map((a) => [
            a.name,
            a.mode,
            paint(a.state),
            a.health ?? '-',
            a.ref ?? 'HEAD',
            a.lastSeenCommit == null ? '-' : shortSha(a.lastSeenCommit),
            a.lastAppliedCommit == null ? '-' : shortSha(a.lastAppliedCommit),
            relativeTime(a.lastReconcileAt),
            relativeTime(a.nextPollAt),
            a.lastError ? a.lastError.split('\n')[0]!.slice(0, 80) : '',
          ]),
        ),
      );
      // A failing notifier never fails the app: say so below the table, one line each.
      for (const a of body.apps)
        for (const n of a.notifications ?? [])
          if (n.failingSince)
            process.stdout.write(
              `notifier ${a.name}/${n.name} failing (since ${relativeTime(n.failingSince)}): ${(n.lastError ?? '').slice(0, 160)}\n`,
            );
    });
}
