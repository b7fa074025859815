/**
 * `npm run cluster -- up|env|down|status`: the local control plane (etcd + kube-apiserver)
 * for the tests, the demo, and anyone without a cluster.
 */
import { Command } from 'commander';
import { ensureTool } from './controlplane/build.ts';
import { down, isHealthy, readState, up } from './controlplane/run.ts';

const program = new Command('cluster')
  .description('Run a real local Kubernetes control plane (etcd + kube-apiserver) on loopback.')
  .addHelpText(
    'after',
    `
Examples:
  npm run cluster -- up        # build on first use (minutes, cached), start, print the kubeconfig path
  eval "$(npm run -s cluster -- env)"   # point kubectl and tether at it
  npm run cluster -- down      # stop it and delete its data (safe to repeat)
  npm run cluster -- build     # only build (or find) etcd, kube-apiserver, helm and kustomize

Environment:
  TETHER_KUBE_APISERVER, TETHER_ETCD, TETHER_HELM, TETHER_KUSTOMIZE   use these binaries instead of building them
  TETHER_CACHE_DIR                     cache for built binaries and cluster state (default ~/.cache/tether)`,
  );

program
  .command('up')
  .description('start the control plane, or reuse the one already running')
  .action(async () => {
    const { state, reused } = await up();
    process.stderr.write(
      `${reused ? 'Reusing the running' : 'Started a'} local control plane at ${state.server}\n` +
        `  kubectl --kubeconfig ${state.kubeconfig} get ns\n`,
    );
    process.stdout.write(`${state.kubeconfig}\n`);
  });

program
  .command('build')
  .description(
    'build (or find in the cache) etcd, kube-apiserver, helm and kustomize, without starting anything',
  )
  .action(async () => {
    for (const name of ['etcd', 'kube-apiserver', 'helm', 'kustomize'] as const)
      process.stdout.write(`${await ensureTool(name)}\n`);
  });

program
  .command('env')
  .description('print `export KUBECONFIG=...` for the running control plane')
  .action(async () => {
    const s = readState();
    if (!s || !(await isHealthy(s))) {
      process.stderr.write('No local control plane is running. Start one with: npm run cluster -- up\n');
      process.exit(1);
    }
    process.stdout.write(`export KUBECONFIG=${s.kubeconfig}\n`);
  });

program
  .command('status')
  .description('say whether the control plane is running and healthy')
  .action(async () => {
    const s = readState();
    if (!s) {
      process.stdout.write('not running\n');
      process.exit(1);
    }
    const healthy = await isHealthy(s);
    process.stdout.write(`${healthy ? 'running' : 'stale (processes gone or unhealthy)'}: ${s.server}\n`);
    process.exit(healthy ? 0 : 1);
  });

program
  .command('down')
  .description('stop the control plane and delete its data (safe to repeat)')
  .action(async () => {
    const stopped = await down();
    process.stderr.write(
      stopped ? 'Stopped the local control plane.\n' : 'No local control plane was running.\n',
    );
  });

try {
  await program.parseAsync();
} catch (e) {
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
