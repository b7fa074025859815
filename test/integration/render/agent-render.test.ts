/**
 * The agent with two kustomize overlays of one repository (dev and prod over shared bases):
 * both are applied from the same commit, a tick without a new commit starts no renderer, and
 * a push that changes a shared base re-renders both apps once.
 */
import { describe, expect, it } from 'vitest';
import { ensureKustomize } from '../../../tools/controlplane/build.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { startAgent, waitFor, type RunningAgent } from '../../support/agent.ts';
import { createNamespace, jsonpath } from '../../support/cluster.ts';
import { gitServerSuite } from '../../support/suite.ts';
import { fixtureFiles } from '../../support/fixture-repos.ts';

describe('the agent renders each commit once', () => {
  const suite = gitServerSuite();

  it('applies two overlays of one commit, renders nothing on idle ticks, re-renders on a push', async () => {
    const repo = suite.git().createRepo('agent-overlays');
    const files = fixtureFiles('overlays', 'unused.tether.dev');
    const first = repo.commit(files, 'two overlays');
    const [dev, prod] = await Promise.all([createNamespace('adev'), createNamespace('aprod')]);
    suite.cleanups.push(dev.cleanup, prod.cleanup);
    const app = (name: string, path: string, ns: string) =>
      `  - name: ${name}
    source: {repo: "${suite.git().url('agent-overlays')}", ref: main, path: ${path}, interval: 1s}
    destination: {namespace: ${ns}, kubeconfig: KUBECONFIG}
    sync: {prune: true}
`;
    const a: RunningAgent = await startAgent({
      apps: app('dev', 'deploy/overlays/dev', dev.name) + app('prod', 'deploy/overlays/prod', prod.name),
      env: { TETHER_KUSTOMIZE: await ensureKustomize() },
    });
    suite.cleanups.push(() => a.stop('SIGKILL'));
    const applied = async (sha: string) =>
      (await a.status()).apps.every((x) => x.lastAppliedCommit === sha && x.lastError === null);
    await waitFor(() => applied(first), 60_000, 'both overlays applied');
    expect(await jsonpath(dev.name, 'deployment', 'dev-backend', '{.spec.replicas}')).toBe('2');
    expect(
      await jsonpath(prod.name, 'deployment', 'prod-backend', '{.spec.template.spec.containers[0].image}'),
    ).toBe('registry.example.com/backend:1.4.1');
    const rendersAfterFirst = await a.metric('tether_renderer_runs_total');
    expect(rendersAfterFirst).toBe(2);

    const ticks = (await a.status()).apps.map((x) => x.reconciles);
    await waitFor(
      async () => (await a.status()).apps.every((x, i) => x.reconciles >= ticks[i]! + 5),
      30_000,
      'five idle ticks each',
    );
    expect(await a.metric('tether_renderer_runs_total')).toBe(rendersAfterFirst);

    const second = repo.commit(
      {
        'deploy/bases/backend/deployment.yaml': files['deploy/bases/backend/deployment.yaml']!.replace(
          'backend:1.4.2',
          'backend:1.5.0',
        ),
      },
      'bump the shared base',
    );
    await waitFor(() => applied(second), 60_000, 'the shared base change applied to both');
    await sleep(1500);
    expect(await a.metric('tether_renderer_runs_total')).toBe(rendersAfterFirst + 2);
    expect(
      await jsonpath(dev.name, 'deployment', 'dev-backend', '{.spec.template.spec.containers[0].image}'),
    ).toBe('registry.example.com/backend:1.5.0');
    // prod pins its own tag over the base's.
    expect(
      await jsonpath(prod.name, 'deployment', 'prod-backend', '{.spec.template.spec.containers[0].image}'),
    ).toBe('registry.example.com/backend:1.4.1');
  });
});
