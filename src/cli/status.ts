/**
 * `tether status`: what the agent is doing, per app: from its /status endpoint (--url), or
 * without --url from the App resources' status through the API server (kubectl access is
 * enough), falling back to a local agent at 127.0.0.1:9090 when the cluster has no Apps.
 */
import { Command } from 'commander';
import { DESCRIPTIONS } from './commands.ts';
import type { AppStatus } from '../agent/app-runner.ts';
import { AppCrdMissingError, listApps } from '../apps/api.ts';
import type { AppResource } from '../apps/resource.ts';
import type { KubeClient } from '../cluster/client.ts';
import { ApiUnreachableError } from '../cluster/errors.ts';
import { redactUrl, TetherError } from '../errors.ts';
import { appsTable, connect } from './apps.ts';
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

const LOCAL_AGENT = 'http://127.0.0.1:9090';

interface StatusFlags {
  url?: string;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  output: 'text' | 'json' | 'yaml';
}

/** The Apps of the cluster, or undefined when it serves none (no CRD, no kubeconfig, unreachable). */
async function appsFromCluster(flags: StatusFlags): Promise<AppResource[] | undefined> {
  let client: KubeClient;
  try {
    ({ client } = await connect(flags));
  } catch (e) {
    // Named explicitly: a broken kubeconfig is the user's to fix, not a reason to try elsewhere.
    if (flags.kubeconfig !== undefined || flags.context !== undefined) throw e;
    return undefined;
  }
  try {
    const apps = await listApps(client, flags.namespace);
    // No App anywhere: the apps, if any, are a local agent's config file's.
    return apps.length === 0 && flags.namespace === undefined ? undefined : apps;
  } catch (e) {
    if (e instanceof AppCrdMissingError && flags.namespace === undefined) return undefined;
    if (e instanceof ApiUnreachableError && flags.kubeconfig === undefined && flags.context === undefined)
      return undefined;
    throw e;
  } finally {
    client.close();
  }
}

function printApps(apps: AppResource[], flags: StatusFlags): void {
  if (flags.output === 'json' || flags.output === 'yaml') {
    process.stdout.write(serialize({ apiVersion: 'v1', kind: 'List', items: apps }, flags.output));
    return;
  }
  if (apps.length === 0) {
    process.stderr.write(
      `No App resources found${flags.namespace ? ` in namespace ${flags.namespace}` : ''}.\n`,
    );
    return;
  }
  process.stdout.write(
    appsTable(apps, { allNamespaces: flags.namespace === undefined, wide: true, color: useColor() }),
  );
}

const COLORS: Record<string, string> = {
  'in-sync': '\x1b[32m',
  drifted: '\x1b[33m',
  conflict: '\x1b[33m',
  error: '\x1b[31m',
};

export function statusCommand(): Command {
  return new Command('status')
    .description(DESCRIPTIONS.status)
    .option('--url <url>', 'base URL of the agent (default: the App resources through the API server)')
    .option('--kubeconfig <file>', 'kubeconfig file, without --url (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use, without --url')
    .option(
      '-n, --namespace <namespace>',
      'only the Apps of this namespace, without --url (default: every namespace)',
    )
    .addOption(outputOption(['text', 'json', 'yaml']))
    .addHelpText(
      'after',
      `
Without --url, the status comes from the App resources (apps.tether.dev) through the API
server, so kubectl access is enough; when the cluster has no App (no CRD, no App, or no
cluster reachable), from an agent at ${LOCAL_AGENT}. With --url, from that agent's /status: every
app it runs, config file and App resources alike, with next poll and notifier failures.
An agent whose config sets ui.auth wants credentials: a bearer token in TETHER_AGENT_TOKEN,
or user:password in the URL (basic auth).

Examples:
  tether status
  tether status -n shop
  tether status --url http://tether.tether-system:9090 -o json`,
    )
    .action(async (flags: StatusFlags) => {
      if (flags.url === undefined) {
        const fromCluster = await appsFromCluster(flags);
        if (fromCluster) return printApps(fromCluster, flags);
      }
      const url = flags.url ?? LOCAL_AGENT;
      let body: StatusBody;
      try {
        body = (await (await agentGet(url, '/status', 10_000)).json()) as StatusBody;
      } catch (e) {
        throw new AgentUnreachableError(`cannot read the agent status: ${redactUrl((e as Error).message)}`, {
          hint:
            flags.url === undefined
              ? 'the cluster has no App resources (or none is reachable), and no agent answers on 127.0.0.1:9090: pass an agent address with --url, or a kubeconfig with --kubeconfig'
              : 'is `tether agent` running, and listening there? pass its address with --url',
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
