/**
 * `npm run cluster -- up|env|down|status`: the local control plane (etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler, kwok with simulated nodes) for the tests, the
 * demo, and anyone without a cluster.
 */
import { Command } from 'commander';
import { ensureTool } from './controlplane/build.ts';
import {
  controllersHealthy,
  down,
  isHealthy,
  ours,
  readState,
  up,
  type ClusterState,
} from './controlplane/run.ts';

const program = new Command('cluster')
  .description(
    'Run a real local Kubernetes control plane on loopback: etcd, kube-apiserver, ' +
      'kube-controller-manager, kube-scheduler, and kwok playing the kubelet of simulated nodes.',
  )
  .addHelpText(
    'after',
    `
Examples:
  npm run cluster -- up        # build on first use (minutes, cached), start, print the kubeconfig path
  npm run cluster -- up --no-controllers   # only etcd and kube-apiserver (objects are stored, nothing rolls out)
  eval "$(npm run -s cluster -- env)"   # point kubectl and tether at it
  npm run cluster -- down      # stop it and delete its data (safe to repeat)
  npm run cluster -- build     # only build (or find) every Go tool: the control plane's, helm and kustomize

Environment:
  TETHER_ETCD, TETHER_KUBE_APISERVER, TETHER_KUBE_CONTROLLER_MANAGER, TETHER_KUBE_SCHEDULER,
  TETHER_KWOK, TETHER_HELM, TETHER_KUSTOMIZE    use these binaries instead of building them
  TETHER_CACHE_DIR                     cache for built binaries and cluster state (default ~/.cache/tether)`,
  );

program
  .command('up')
  .description('start the control plane, or reuse the one already running')
  .option('--no-controllers', 'skip kube-controller-manager, kube-scheduler and kwok')
  .option(
    '--print-started',
    'print "started" or "reused" (whether etcd and kube-apiserver were already running) instead of the kubeconfig path',
  )
  .action(async (opts: { controllers: boolean; printStarted?: boolean }) => {
    const { state, reused } = await up({ controllers: opts.controllers });
    process.stderr.write(
      `${reused ? 'Reusing the running' : 'Started a'} local control plane at ${state.server}` +
        `${state.controllers ? ` (with controllers, nodes ${state.controllers.nodes.join(', ')})` : ''}\n` +
        `  kubectl --kubeconfig ${state.kubeconfig} get ns\n`,
    );
    process.stdout.write(`${opts.printStarted ? (reused ? 'reused' : 'started') : state.kubeconfig}\n`);
  });

program
  .command('build')
  .description('build (or find in the cache) every Go tool, without starting anything')
  .action(async () => {
    const names = [
      'etcd',
      'kube-apiserver',
      'kube-controller-manager',
      'kube-scheduler',
      'kwok',
      'helm',
      'kustomize',
    ] as const;
    for (const name of names) process.stdout.write(`${await ensureTool(name)}\n`);
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
    process.stdout.write(processLines(s));
    if (s.controllers)
      process.stdout.write(
        `controllers: ${(await controllersHealthy(s)) ? 'healthy' : 'unhealthy'}; nodes: ${s.controllers.nodes.join(', ')}\n`,
      );
    else process.stdout.write('controllers: not started (up --no-controllers)\n');
    process.exit(healthy ? 0 : 1);
  });

/** One line per process: its name, pid, and whether it is still alive. */
function processLines(s: ClusterState): string {
  const rows: [string, number, string][] = [
    ['etcd', s.pids.etcd, s.binaries.etcd],
    ['kube-apiserver', s.pids.apiserver, s.binaries.kubeApiserver],
  ];
  const c = s.controllers;
  if (c)
    rows.push(
      ['kube-controller-manager', c.pids.controllerManager, c.processes.controllerManager.binary],
      ['kube-scheduler', c.pids.scheduler, c.processes.scheduler.binary],
      ['kwok', c.pids.kwok, c.processes.kwok.binary],
    );
  return rows
    .map(([name, pid, bin]) => `  ${name.padEnd(24)} pid ${pid} ${ours(pid, bin) ? 'alive' : 'gone'}\n`)
    .join('');
}

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
