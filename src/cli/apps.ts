/**
 * App resources from the command line, as `flux get|reconcile|suspend|resume` does for
 * Kustomizations: `tether get apps`, `tether reconcile app NAME`, `tether suspend app NAME`,
 * `tether resume app NAME`. They talk to the API server only (kubeconfig access is enough, no
 * port-forward to the agent); the agent acts on what they change.
 */
import { Command } from 'commander';
import { getApp, listApps, patchApp } from '../apps/api.ts';
import { RECONCILE_ANNOTATION, type AppResource } from '../apps/resource.ts';
import { KubeClient } from '../cluster/client.ts';
import { parseDuration } from '../config/index.ts';
import { TetherError } from '../errors.ts';
import { DESCRIPTIONS } from './commands.ts';
import { outputOption, useColor } from './common.ts';
import { UsageError } from './output.ts';
import { serialize } from './result-json.ts';
import { relativeTime, table } from './table.ts';

interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** The App did not become ready after `tether reconcile app`, or the wait timed out. */
export class AppNotReadyError extends TetherError {}

function clusterOptions(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .option(
      '-n, --namespace <namespace>',
      "the App's namespace (default: the kubeconfig context's, else default)",
    );
}

/** The client of --kubeconfig and --context, and -n or the context's namespace (else default). */
export async function connect(flags: ClusterFlags): Promise<{ client: KubeClient; namespace: string }> {
  const client = await KubeClient.create({
    ...(flags.kubeconfig !== undefined && { kubeconfig: flags.kubeconfig }),
    ...(flags.context !== undefined && { context: flags.context }),
  });
  return { client, namespace: flags.namespace ?? client.contextNamespace ?? 'default' };
}

function condition(a: AppResource, type: string) {
  return a.status?.conditions?.find((c) => c.type === type);
}

const COLORS: Record<string, string> = { True: '\x1b[32m', False: '\x1b[31m', Unknown: '\x1b[33m' };

/** The table `kubectl get apps.tether.dev` shows, plus the Ready message (wide: source and mode). */
export function appsTable(
  apps: AppResource[],
  opts: { allNamespaces: boolean; wide: boolean; color: boolean },
): string {
  const paint = (s: string) => (opts.color && COLORS[s] ? `${COLORS[s]}${s}\x1b[0m` : s);
  const header = [
    ...(opts.allNamespaces ? ['NAMESPACE'] : []),
    'NAME',
    'READY',
    'STATUS',
    'COMMIT',
    'HEALTH',
    'AGE',
    ...(opts.wide ? ['MODE', 'REPO', 'REF', 'PATH', 'SUSPENDED'] : []),
    'MESSAGE',
  ];
  const rows = apps.map((a) => {
    const ready = condition(a, 'Ready');
    const source = a.spec?.source ?? {};
    const text = (v: unknown, fallback: string) => (typeof v === 'string' ? v : fallback);
    return [
      ...(opts.allNamespaces ? [a.metadata.namespace] : []),
      a.metadata.name,
      paint(ready?.status ?? 'Unknown'),
      a.status?.state ?? '-',
      a.status?.commit ?? '-',
      a.status?.health ?? '-',
      relativeTime(a.metadata.creationTimestamp).replace(/ ago$/, ''),
      ...(opts.wide
        ? [
            a.status?.mode ?? text(a.spec?.sync?.['mode'], 'apply'),
            text(source['repo'], '-'),
            text(source['ref'], 'HEAD'),
            text(source['path'], '.'),
            String(a.spec?.suspend === true),
          ]
        : []),
      (ready?.message ?? '').split('\n')[0]!.slice(0, 100),
    ];
  });
  return table(header, rows);
}

export function getCommand(): Command {
  return clusterOptions(
    new Command('get')
      .description(DESCRIPTIONS.get)
      .argument('<kind>', 'what to list: apps (or app)')
      .argument('[name]', 'one App'),
  )
    .option('-A, --all-namespaces', 'list the Apps of every namespace')
    .addOption(outputOption(['text', 'wide', 'json', 'yaml']))
    .addHelpText(
      'after',
      `
READY is the App's Ready condition, STATUS the agent's word for it (in-sync, drifted,
conflict, degraded, error, suspended, pending), COMMIT the commit in force (applied in apply
mode, seen in report mode), HEALTH the kstatus health of its objects.

Examples:
  tether get apps -A
  tether get apps -n shop -o wide
  tether get app shop -n shop -o yaml`,
    )
    .action(
      async (
        kind: string,
        name: string | undefined,
        flags: ClusterFlags & { allNamespaces?: boolean; output: 'text' | 'wide' | 'json' | 'yaml' },
      ) => {
        if (kind !== 'apps' && kind !== 'app')
          throw new UsageError(`tether get lists apps, not ${JSON.stringify(kind)}`, {
            hint: 'tether get apps -A (other kinds: kubectl get)',
          });
        if (name !== undefined && flags.allNamespaces)
          throw new UsageError('a name and --all-namespaces do not go together', {
            hint: 'name one App with -n NAMESPACE, or list all with -A',
          });
        const { client, namespace } = await connect(flags);
        try {
          const apps =
            name !== undefined
              ? [await getApp(client, namespace, name)]
              : await listApps(client, flags.allNamespaces ? undefined : namespace);
          if (flags.output === 'json' || flags.output === 'yaml') {
            const body = name !== undefined ? apps[0] : { apiVersion: 'v1', kind: 'List', items: apps };
            process.stdout.write(serialize(body, flags.output));
            return;
          }
          if (apps.length === 0) {
            process.stderr.write(
              flags.allNamespaces
                ? 'No App resources found.\n'
                : `No App resources found in namespace ${namespace}.\n`,
            );
            return;
          }
          process.stdout.write(
            appsTable(apps, {
              allNamespaces: Boolean(flags.allNamespaces),
              wide: flags.output === 'wide',
              color: useColor(),
            }),
          );
        } finally {
          client.close();
        }
      },
    );
}

function appVerb(verb: 'reconcile' | 'suspend' | 'resume', help: string): Command {
  return clusterOptions(
    new Command(verb)
      .description(DESCRIPTIONS[verb])
      .argument('<kind>', 'app')
      .argument('<name>', "the App's name"),
  ).addHelpText('after', help);
}

function checkKind(kind: string, verb: string): void {
  if (kind !== 'app' && kind !== 'apps')
    throw new UsageError(`tether ${verb} acts on an app, not ${JSON.stringify(kind)}`, {
      hint: `tether ${verb} app NAME -n NAMESPACE`,
    });
}

export function reconcileCommand(): Command {
  return appVerb(
    'reconcile',
    `
Sets the annotation ${RECONCILE_ANNOTATION} to the current time; the agent reconciles the
app at once (poll, render, apply or report), records lastHandledReconcileAt in its status
when that reconcile ends, and this command waits for it (--no-wait returns at once). Exits
non-zero when the App is not Ready afterwards, with its Ready message.

Examples:
  tether reconcile app shop -n shop
  tether reconcile app shop -n shop --timeout 5m
  tether reconcile app shop -n shop --no-wait`,
  )
    .option('--no-wait', 'return once the request is made')
    .option('--timeout <duration>', 'how long to wait for the reconcile', '2m')
    .action(async (kind: string, name: string, flags: ClusterFlags & { wait: boolean; timeout: string }) => {
      checkKind(kind, 'reconcile');
      const timeoutMs = parseDuration(flags.timeout);
      const { client, namespace } = await connect(flags);
      try {
        const requestedAt = new Date().toISOString();
        await patchApp(client, namespace, name, {
          metadata: { annotations: { [RECONCILE_ANNOTATION]: requestedAt } },
        });
        process.stdout.write(`app ${namespace}/${name}: reconcile requested at ${requestedAt}\n`);
        if (!flags.wait) return;
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const a = await getApp(client, namespace, name);
          if (a.status?.lastHandledReconcileAt === requestedAt) {
            const ready = condition(a, 'Ready');
            if (ready?.status === 'True') {
              process.stdout.write(`app ${namespace}/${name} reconciled: ${ready.message}\n`);
              return;
            }
            throw new AppNotReadyError(
              `app ${namespace}/${name} reconciled but not Ready (${ready?.reason ?? 'no Ready condition'}): ${ready?.message ?? a.status?.lastError ?? ''}`,
              { hint: `tether get app ${name} -n ${namespace} -o yaml shows its whole status` },
            );
          }
          if (Date.now() > deadline)
            throw new AppNotReadyError(
              `app ${namespace}/${name}: the agent did not finish the reconcile within ${flags.timeout}`,
              {
                hint: 'is a tether agent with appResources.enabled running against this cluster (and does its labelSelector match the App)? check its log, or raise --timeout',
              },
            );
          await new Promise((r) => setTimeout(r, 500));
        }
      } finally {
        client.close();
      }
    });
}

function suspendOrResume(verb: 'suspend' | 'resume'): Command {
  const suspend = verb === 'suspend';
  return appVerb(
    verb,
    `
${suspend ? 'Sets spec.suspend: true: the agent stops reconciling the app (no poll, no apply, no drift report) until it is resumed; its objects stay as they are.' : 'Sets spec.suspend: false: the agent reconciles the app again at once.'}

Example:
  tether ${verb} app shop -n shop`,
  ).action(async (kind: string, name: string, flags: ClusterFlags) => {
    checkKind(kind, verb);
    const { client, namespace } = await connect(flags);
    try {
      await patchApp(client, namespace, name, { spec: { suspend } });
      process.stdout.write(`app ${namespace}/${name} ${suspend ? 'suspended' : 'resumed'}\n`);
    } finally {
      client.close();
    }
  });
}

export const suspendCommand = (): Command => suspendOrResume('suspend');
export const resumeCommand = (): Command => suspendOrResume('resume');
