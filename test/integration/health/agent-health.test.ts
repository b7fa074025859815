/**
 * The agent's health of each app, from its watch cache, against the real API server: /status
 * names what is not Current and why, the metrics count objects by health, and the audit log
 * records the commit that becomes healthy (with the seconds it took).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startAgent, waitFor, type RunningAgent } from '../../support/agent.ts';
import { createNamespace } from '../../support/cluster.ts';
import { configMap, deployment, toYaml } from '../../support/objects.ts';
import { gitServerSuite } from '../../support/suite.ts';

interface HealthStatusView {
  health: string | null;
  unhealthy: { kind: string; name: string; status: string; reason?: string; message: string }[];
}

describe('the agent tells whether a deploy worked', () => {
  const suite = gitServerSuite();

  it('shows a Deployment that cannot become available, then records the commit that is healthy', async () => {
    const repo = suite.git().createRepo('agent-health');
    const stuck = deployment({
      name: 'stuck',
      replicas: 1,
      podSpec: { nodeSelector: { 'tether.dev/no-such-node': 'x' } },
    });
    (stuck.spec as Record<string, unknown>)['progressDeadlineSeconds'] = 10;
    repo.commit(
      {
        'app/cm.yaml': toYaml(configMap({ name: 'fine', data: { a: '1' } })),
        'app/deploy.yaml': toYaml(stuck),
      },
      'a stuck deployment',
    );
    const ns = await createNamespace('ahealth');
    suite.cleanups.push(ns.cleanup);
    const a: RunningAgent = await startAgent({
      apps: `  - name: shop
    source: {repo: "${suite.git().url('agent-health')}", ref: main, path: app, interval: 1s}
    destination: {namespace: ${ns.name}, kubeconfig: KUBECONFIG}
    sync: {prune: true}
`,
    });
    suite.cleanups.push(() => a.stop('SIGKILL'));
    const view = async () => (await a.status()).apps[0] as unknown as HealthStatusView;

    // Without controllers it never leaves InProgress; with them its deadline makes it Failed.
    const seen = await waitFor(
      async () => {
        const v = await view();
        return v.health !== null && v.health !== 'Current' && v.unhealthy.length > 0 ? v : undefined;
      },
      30_000,
      'the stuck deployment on /status',
    );
    expect(['InProgress', 'Failed']).toContain(seen.value.health);
    expect(seen.value.unhealthy).toEqual([
      expect.objectContaining({ kind: 'Deployment', name: 'stuck', status: seen.value.health }),
    ]);
    expect(seen.value.unhealthy[0]?.message.length).toBeGreaterThan(0);
    expect(await a.metric('tether_app_health', { app: 'shop', status: 'Current' })).toBe(0);
    expect(await a.metric('tether_object_health', { app: 'shop', status: 'Current' })).toBe(1);
    expect(await a.metric('tether_object_health', { app: 'shop', status: seen.value.health! })).toBe(1);

    const fixed = repo.commit({ 'app/deploy.yaml': null }, 'drop the stuck deployment');
    await waitFor(async () => (await view()).health === 'Current', 30_000, 'healthy after the fix');
    expect((await view()).unhealthy).toEqual([]);
    expect(await a.metric('tether_app_health', { app: 'shop', status: 'Current' })).toBe(1);
    type Rec = {
      result: string;
      commit: { sha: string } | null;
      details?: { health?: { seconds?: number } };
    };
    const records = () =>
      readFileSync(a.auditLog, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Rec);
    const healthy = await waitFor(
      () => records().find((r) => r.result === 'healthy' && r.commit?.sha === fixed),
      5_000,
      'the healthy record',
    );
    expect(healthy.value.details?.health?.seconds).toBeGreaterThanOrEqual(0);
  });
});
