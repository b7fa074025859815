import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/agent/metrics.ts';

/** The sample lines of one metric family in the exposition text. */
function samples(body: string, name: string): string[] {
  return body.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe('Metrics', () => {
  it('exposes the contract names and labels after some calls', async () => {
    const m = new Metrics();
    m.recordReconcile('shop', 'success', 0.3);
    m.recordReconcile('shop', 'success', 1.2);
    m.recordReconcile('shop', 'failure', 0.05);
    m.setDrifted('shop', 3);
    m.setLastApplied('shop', new Date('2025-01-02T03:04:05.500Z'));
    m.syncApiRequests([
      { verb: 'PATCH', dryRun: true, count: 4 },
      { verb: 'PATCH', dryRun: false, count: 2 },
    ]);
    m.incGit('shop', 'ls-refs');
    m.incGit('shop', 'ls-refs');
    m.incGit('shop', 'fetch');

    const { contentType, body } = await m.render();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain('# TYPE tether_reconcile_total counter');
    expect(body).toContain('# TYPE tether_reconcile_duration_seconds histogram');
    expect(body).toContain('# TYPE tether_drifted_objects gauge');
    expect(body).toContain('# TYPE tether_last_applied_timestamp_seconds gauge');
    expect(body).toContain('# TYPE tether_api_requests_total counter');
    expect(body).toContain('# TYPE tether_git_requests_total counter');
    expect(samples(body, 'tether_reconcile_total')).toEqual([
      'tether_reconcile_total{app="shop",result="success"} 2',
      'tether_reconcile_total{app="shop",result="failure"} 1',
    ]);
    expect(samples(body, 'tether_reconcile_duration_seconds_count')).toEqual([
      'tether_reconcile_duration_seconds_count{app="shop"} 3',
    ]);
    expect(samples(body, 'tether_reconcile_duration_seconds_sum')).toEqual([
      'tether_reconcile_duration_seconds_sum{app="shop"} 1.55',
    ]);
    expect(body).toContain('tether_reconcile_duration_seconds_bucket{le="0.5",app="shop"} 2');
    expect(samples(body, 'tether_drifted_objects')).toEqual(['tether_drifted_objects{app="shop"} 3']);
    expect(samples(body, 'tether_last_applied_timestamp_seconds')).toEqual([
      'tether_last_applied_timestamp_seconds{app="shop"} 1735787045.5',
    ]);
    expect(samples(body, 'tether_api_requests_total')).toEqual([
      'tether_api_requests_total{verb="PATCH",dry_run="true"} 4',
      'tether_api_requests_total{verb="PATCH",dry_run="false"} 2',
    ]);
    expect(samples(body, 'tether_git_requests_total')).toEqual([
      'tether_git_requests_total{app="shop",kind="ls-refs"} 2',
      'tether_git_requests_total{app="shop",kind="fetch"} 1',
    ]);
  });

  it('includes the default process metrics in its own registry, not the global one', async () => {
    const m = new Metrics();
    const { body } = await m.render();
    expect(body).toContain('process_cpu_seconds_total');
    expect(body).toContain('nodejs_eventloop_lag_seconds');
    expect(await globalRegistry.metrics()).not.toContain('tether_');
    // Two instances do not clash over names.
    expect(() => new Metrics({ defaultMetrics: false })).not.toThrow();
    expect((await new Metrics({ defaultMetrics: false }).render()).body).not.toContain('process_cpu');
  });

  it('syncApiRequests turns absolute totals into a counter that only goes up', async () => {
    const m = new Metrics({ defaultMetrics: false });
    const total = async () =>
      samples((await m.render()).body, 'tether_api_requests_total').map((l) => l.replace(/^.*\{/, '{'));

    m.syncApiRequests([{ verb: 'GET', dryRun: false, count: 10 }]);
    expect(await total()).toEqual(['{verb="GET",dry_run="false"} 10']);
    m.syncApiRequests([{ verb: 'GET', dryRun: false, count: 10 }]);
    expect(await total()).toEqual(['{verb="GET",dry_run="false"} 10']);
    m.syncApiRequests([
      { verb: 'GET', dryRun: false, count: 15 },
      { verb: 'PATCH', dryRun: true, count: 1 },
    ]);
    expect(await total()).toEqual(['{verb="GET",dry_run="false"} 15', '{verb="PATCH",dry_run="true"} 1']);
    // A new client counts from zero: its 3 requests are new, the counter does not go down.
    m.syncApiRequests([{ verb: 'GET', dryRun: false, count: 3 }]);
    expect(await total()).toEqual(['{verb="GET",dry_run="false"} 18', '{verb="PATCH",dry_run="true"} 1']);
    m.syncApiRequests([{ verb: 'GET', dryRun: false, count: 5 }]);
    expect(await total()).toEqual(['{verb="GET",dry_run="false"} 20', '{verb="PATCH",dry_run="true"} 1']);
  });

  it('setDrifted and setLastApplied overwrite; forgetApp drops every series of an app', async () => {
    const m = new Metrics({ defaultMetrics: false });
    for (const app of ['shop', 'cart']) {
      m.recordReconcile(app, 'success', 0.1);
      m.setDrifted(app, 5);
      m.setLastApplied(app, new Date(1_000_000));
      m.incGit(app, 'fetch');
    }
    m.setDrifted('shop', 0);
    expect(samples((await m.render()).body, 'tether_drifted_objects')).toEqual([
      'tether_drifted_objects{app="shop"} 0',
      'tether_drifted_objects{app="cart"} 5',
    ]);
    await m.forgetApp('shop');
    await m.forgetApp('never-seen');
    const { body } = await m.render();
    expect(body).not.toContain('app="shop"');
    expect(body).toContain('tether_reconcile_total{app="cart",result="success"} 1');
    expect(body).toContain('tether_git_requests_total{app="cart",kind="fetch"} 1');
    expect(body).toContain('tether_last_applied_timestamp_seconds{app="cart"} 1000');
  });
});
