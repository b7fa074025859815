/**
 * `tether install-crds`: server-side applies the CustomResourceDefinitions Tether ships
 * (apps.tether.dev, kind App) from the chart's crds/ directory, waits until each is
 * Established, and prints what happened as kubectl does. `--print` writes the files instead,
 * for `kubectl apply -f -` or review.
 */
import { Command } from 'commander';
import { DESCRIPTIONS } from './commands.ts';
import { UsageError } from './output.ts';
import { parseDuration } from '../config/duration.ts';
import { InvalidDurationError } from '../config/errors.ts';

interface InstallCrdsFlags {
  kubeconfig?: string;
  context?: string;
  print?: boolean;
  dryRun?: boolean;
  timeout: string;
}

function timeoutMs(text: string): number {
  try {
    const ms = parseDuration(text);
    if (ms > 0) return ms;
  } catch (e) {
    if (!(e instanceof InvalidDurationError)) throw e;
    throw new UsageError(`--timeout ${e.message}`, e.hint ? { hint: e.hint } : {});
  }
  throw new UsageError(`--timeout ${JSON.stringify(text)} must be more than 0`, { hint: '--timeout 1m' });
}

export async function runInstallCrds(flags: InstallCrdsFlags): Promise<void> {
  if (flags.print && flags.dryRun)
    throw new UsageError('--print and --dry-run do not go together: --print only writes the YAML', {
      hint: 'tether install-crds --print | kubectl apply --dry-run=server -f -',
    });
  const waitMs = timeoutMs(flags.timeout);
  // Loaded here: --help and --print need neither the YAML parser nor the cluster client.
  const { bundledCrds, installCrd } = await import('../cluster/crds.ts');
  const files = bundledCrds();
  if (flags.print) {
    process.stdout.write(files.map((f) => (f.text.endsWith('\n') ? f.text : `${f.text}\n`)).join('---\n'));
    return;
  }
  const { KubeClient } = await import('../cluster/client.ts');
  const client = await KubeClient.create({
    ...(flags.kubeconfig !== undefined && { kubeconfig: flags.kubeconfig }),
    ...(flags.context !== undefined && { context: flags.context }),
  });
  try {
    for (const crd of files.flatMap((f) => f.crds)) {
      const outcome = await installCrd(client, crd, {
        timeoutMs: waitMs,
        ...(flags.dryRun ? { dryRun: true } : {}),
      });
      process.stdout.write(
        `customresourcedefinition.apiextensions.k8s.io/${crd.metadata.name} ${outcome}${flags.dryRun ? ' (server dry run)' : ''}\n`,
      );
    }
  } finally {
    client.close();
  }
}

export function installCrdsCommand(): Command {
  return new Command('install-crds')
    .description(DESCRIPTIONS['install-crds'])
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('--print', 'write the CRD YAML to stdout instead of installing it (for kubectl apply -f -)')
    .option('--dry-run', 'send the apply as a server-side dry run: checked by the API server, nothing stored')
    .option('--timeout <duration>', 'how long to wait for the CRD to be Established (e.g. 30s, 2m)', '30s')
    .addHelpText(
      'after',
      `
Server-side applies the CustomResourceDefinition of Tether's App resource (apps.tether.dev:
group tether.dev, version v1alpha1, kind App) with field manager tether, forcing conflicts
(the shipped file is the truth), then waits until the API server serves Apps (the CRD's
Established condition). Prints one line as kubectl does:
  customresourcedefinition.apiextensions.k8s.io/apps.tether.dev created|configured|unchanged

Installing a CRD takes a cluster admin (create and patch on customresourcedefinitions, which
are cluster-wide). The Helm chart installs the same file from its crds/ directory; running
this again after an upgrade of tether updates it.

Examples:
  tether install-crds
  tether install-crds --context prod --dry-run
  tether install-crds --print | kubectl apply -f -
  tether install-crds --print > apps.tether.dev.yaml
  kubectl apply -n team-a -f app.yaml && kubectl get apps.tether.dev -A`,
    )
    .action(runInstallCrds);
}
