/**
 * `npm run demo`: start (or reuse) the local control plane and sync examples-repo into it,
 * reading the manifests from this repository's own Git history, as the agent would.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { up } from './controlplane/run.ts';
import { repoRoot } from './controlplane/paths.ts';

const apps = ['examples-repo/platform', 'examples-repo/apps/shop', 'examples-repo/apps/billing'];

try {
  const { state, reused } = await up();
  console.log(`${reused ? 'Reusing the' : 'Started a'} local control plane at ${state.server}\n`);
  for (const path of apps) {
    console.log(`$ tether sync --repo . --path ${path}`);
    const r = spawnSync(
      process.execPath,
      [join(repoRoot, 'bin/tether.js'), 'sync', '--repo', repoRoot, '--path', path],
      {
        env: { ...process.env, KUBECONFIG: state.kubeconfig },
        stdio: 'inherit',
      },
    );
    if (r.status !== 0) process.exit(r.status ?? 1);
    console.log('');
  }
  const k = `kubectl --kubeconfig ${state.kubeconfig}`;
  console.log(`Done. The cluster now runs examples-repo. Look at it:

  export KUBECONFIG=${state.kubeconfig}
  ${k} get deploy,svc,cm -A -l app.kubernetes.io/managed-by=tether
  ${k} -n shop get deploy web -o yaml --show-managed-fields   # manager "tether", operation Apply
  ${k} -n shop get pods -o wide   # rolled out: Running and Ready on kwok's simulated nodes
  ${k} -n shop get backups

Change something by hand (kubectl -n shop scale deploy web --replicas=5), then run
  npx tether sync --repo . --path examples-repo/apps/shop
and watch Tether put it back. Stop the control plane with: npm run cluster -- down`);
} catch (e) {
  console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
