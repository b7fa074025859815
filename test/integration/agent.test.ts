/**
 * `tether agent` end to end: a real agent process, a real git server and the real API server.
 */
import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAuditLog, verifyAuditLog } from '../../src/audit/index.ts';
import { postGithubPush, startAgent, waitFor, type RunningAgent } from '../support/agent.ts';
import { apiServerRequests, createNamespace, kubectl, tether } from '../support/cluster.ts';
import type { GitServer } from '../support/git-server.ts';
import { configMap, deployment, toYaml } from '../support/objects.ts';
import { gitServerSuite } from '../support/suite.ts';

const deploymentYaml = (replicas = 2, image = 'nginx:1.27') =>
  toYaml(deployment({ name: 'web', replicas, image, container: { name: 'web' } }));
const configMaps = (n: number, value = 'v1') =>
  Object.fromEntries(
    Array.from({ length: n }, (_, i) => [
      `app/cm-${String(i).padStart(3, '0')}.yaml`,
      toYaml(configMap({ name: `cm-${i}`, data: { key: value } })),
    ]),
  );

const app = (
  name: string,
  repo: string,
  ns: string,
  extra: { interval?: string; mode?: string; prune?: boolean } = {},
) =>
  `  - name: ${name}
    source: {repo: "${repo}", ref: main, path: app, interval: ${extra.interval ?? '1s'}}
    destination: {namespace: ${ns}, kubeconfig: KUBECONFIG}
    sync: {mode: ${extra.mode ?? 'apply'}, prune: ${extra.prune ?? true}}
`;

const replicas = async (ns: string) =>
  Number(await kubectl(['-n', ns, 'get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}']));

/**
 * Waits until Deployment web has rolled out and the agent has had no reconcile for 1.5 s: the
 * deployment controller's status updates wake the agent (watch events) while it rolls out.
 */
async function rolledOut(a: RunningAgent, ns: string): Promise<void> {
  await kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s']);
  let reconciles = -1;
  await waitFor(
    async () => {
      const now = (await a.status()).apps[0]!.reconciles;
      const quiet = now === reconciles;
      reconciles = now;
      return quiet;
    },
    30_000,
    'no reconcile for 1.5 s',
    1500,
  );
}

describe('tether agent', () => {
  const suite = gitServerSuite();
  const { cleanups } = suite;
  let git: GitServer;
  beforeAll(() => {
    git = suite.git();
  });
  const namespace = async (prefix: string) => {
    const ns = await createNamespace(prefix);
    cleanups.push(ns.cleanup);
    return ns.name;
  };
  const agent = async (opts: Parameters<typeof startAgent>[0]): Promise<RunningAgent> => {
    const a = await startAgent(opts);
    cleanups.push(() => a.stop('SIGKILL'));
    return a;
  };

  it('makes no write and no dry-run on no-change ticks with 200 objects, and applies a push within one interval', async () => {
    const ns = await namespace('noop');
    const repo = git.createRepo('noop');
    const first = repo.commit(configMaps(200), 'two hundred configmaps');
    const a = await agent({ apps: app('noop', git.url('noop'), ns, { interval: '1s' }) });
    await waitFor(async () => (await a.status()).apps[0]!.lastAppliedCommit === first, 60_000, 'first apply');
    // One dry-run per object, before the first write; the ticks after the apply reuse what the
    // API server answered to it instead of dry-running every written object again.
    const firstApplyDryRuns = await a.metric('tether_api_requests_total', { verb: 'patch', dry_run: 'true' });
    expect(await kubectl(['-n', ns, 'get', 'cm', 'cm-199', '-o', 'jsonpath={.data.key}'])).toBe('v1');
    await sleep(2500); // let the watch events of our own writes settle
    expect(await a.metric('tether_api_requests_total', { verb: 'patch', dry_run: 'true' })).toBe(
      firstApplyDryRuns,
    );

    const before = {
      writes: await a.metric('tether_api_requests_total', { verb: 'patch', dry_run: 'false' }),
      dryRuns: await a.metric('tether_api_requests_total', { verb: 'patch', dry_run: 'true' }),
      gets: await a.metric('tether_api_requests_total', { verb: 'get' }),
      lists: await a.metric('tether_api_requests_total', { verb: 'list' }),
      ticks: (await a.status()).apps[0]!.reconciles,
      lsRefs: await a.metric('tether_git_requests_total', { kind: 'ls-refs' }),
      fetches: await a.metric('tether_git_requests_total', { kind: 'fetch' }),
      skipped: await a.metric('tether_evaluations_skipped_total', { app: 'noop' }),
      serverDryRuns: await apiServerRequests({ verb: 'PATCH', dryRun: true, resource: 'configmaps' }),
      serverWrites: await apiServerRequests({ verb: 'PATCH', dryRun: false, resource: 'configmaps' }),
    };
    await waitFor(
      async () => (await a.status()).apps[0]!.reconciles >= before.ticks + 10,
      30_000,
      'ten ticks',
    );
    const ticks = (await a.status()).apps[0]!.reconciles - before.ticks;
    expect(await a.metric('tether_api_requests_total', { verb: 'patch', dry_run: 'false' })).toBe(
      before.writes,
    );
    expect(await a.metric('tether_api_requests_total', { verb: 'patch', dry_run: 'true' })).toBe(
      before.dryRuns,
    );
    expect(await a.metric('tether_api_requests_total', { verb: 'get' })).toBe(before.gets);
    expect(await a.metric('tether_api_requests_total', { verb: 'list' })).toBe(before.lists);
    // Cross-check with the API server's own counters.
    expect(await apiServerRequests({ verb: 'PATCH', dryRun: true, resource: 'configmaps' })).toBe(
      before.serverDryRuns,
    );
    expect(await apiServerRequests({ verb: 'PATCH', dryRun: false, resource: 'configmaps' })).toBe(
      before.serverWrites,
    );
    // One ref listing per tick, nothing else from git.
    // Ticks and ls-refs are read in separate requests while ticks go on: one may fall between.
    const lsRefs = (await a.metric('tether_git_requests_total', { kind: 'ls-refs' })) - before.lsRefs;
    expect(Math.abs(lsRefs - ticks)).toBeLessThanOrEqual(1);
    expect(await a.metric('tether_git_requests_total', { kind: 'fetch' })).toBe(before.fetches);
    // Same commit and no watch event: the ticks skip the object-by-object evaluation.
    expect(await a.metric('tether_evaluations_skipped_total', { app: 'noop' })).toBeGreaterThanOrEqual(
      before.skipped + ticks - 1,
    );

    const second = repo.commit(
      { 'app/cm-007.yaml': toYaml(configMap({ name: 'cm-7', data: { key: 'v2' } })) },
      'change one',
    );
    await waitFor(
      async () => (await a.status()).apps[0]!.lastAppliedCommit === second,
      10_000,
      'the push applied',
    );
    expect(await kubectl(['-n', ns, 'get', 'cm', 'cm-7', '-o', 'jsonpath={.data.key}'])).toBe('v2');
    const records = await readAuditLog(a.auditLog, { commit: second });
    expect(records.find((r) => r.result === 'applied')?.objects).toEqual([
      expect.objectContaining({ kind: 'ConfigMap', name: 'cm-7', action: 'configured' }),
    ]);
    expect(await a.stop('SIGTERM')).toBe(0);
    expect((await verifyAuditLog(a.auditLog)).ok).toBe(true);
  });

  it('heals an object whose Tether labels were removed, though the watch then loses sight of it', async () => {
    const ns = await namespace('labels');
    const repo = git.createRepo('labels');
    const sha = repo.commit(configMaps(3), 'three configmaps');
    const a = await agent({ apps: app('labels', git.url('labels'), ns, { interval: '1s' }) });
    await waitFor(async () => (await a.status()).apps[0]!.lastAppliedCommit === sha, 30_000, 'first apply');
    const skipping = async () => a.metric('tether_evaluations_skipped_total', { app: 'labels' });
    const s0 = await skipping();
    await waitFor(async () => (await skipping()) > s0, 15_000, 'ticks that skip the evaluation');

    // The watch selects on the managed-by label: removing it drops the object from the cache
    // (a DELETED event). The reconcile must read it from the server, and no later tick may
    // skip its evaluation on the strength of a cache that no longer holds it.
    await kubectl(['-n', ns, 'label', 'cm', 'cm-1', 'app.kubernetes.io/managed-by-', 'tether.dev/app-']);
    const labels = async () =>
      kubectl(['-n', ns, 'get', 'cm', 'cm-1', '-o', 'jsonpath={.metadata.labels.tether\\.dev/app}']);
    await waitFor(async () => (await labels()) === 'labels', 15_000, 'the labels put back');
    await waitFor(
      async () =>
        (await readAuditLog(a.auditLog, { commit: sha })).some((r) =>
          r.objects.some((o) => o.name === 'cm-1' && o.action === 'healed'),
        ),
      5_000,
      'the heal audited',
    );
    // Back in sight of the watch: ticks skip again.
    const s1 = await skipping();
    await waitFor(async () => (await skipping()) > s1 + 1, 15_000, 'skipping again after the heal');
  });

  it('replaces itself (same pid) with a Node tuned for a small footprint, unless told not to', async () => {
    const ns = await namespace('tuned');
    git.createRepo('tuned').commit({ 'app/web.yaml': deploymentYaml(1) }, 'web');
    const proc = (pid: number | undefined, what: 'cmdline' | 'environ') =>
      readFileSync(`/proc/${pid}/${what}`, 'utf8').split('\0');
    const tuned = await agent({ apps: app('tuned', git.url('tuned'), ns) });
    expect(proc(tuned.proc.pid, 'cmdline')).toEqual(
      expect.arrayContaining(['--optimize-for-size', '--expose-gc']),
    );
    expect(proc(tuned.proc.pid, 'environ')).toEqual(
      expect.arrayContaining(['MALLOC_ARENA_MAX=2', 'MALLOC_MMAP_THRESHOLD_=65536', 'TETHER_AGENT_TUNED=1']),
    );
    expect(await tuned.stop('SIGTERM')).toBe(0);
    const plain = await agent({
      apps: app('tuned', git.url('tuned'), ns),
      env: { TETHER_AGENT_TUNING: 'off' },
    });
    expect(proc(plain.proc.pid, 'cmdline')).not.toContain('--optimize-for-size');
    expect(proc(plain.proc.pid, 'environ')).not.toContain('TETHER_AGENT_TUNED=1');
  });

  it('reverts kubectl scale in apply mode and audits it with the kubectl manager', async () => {
    const ns = await namespace('heal');
    const repo = git.createRepo('heal');
    const sha = repo.commit({ 'app/web.yaml': deploymentYaml(2) }, 'web');
    const a = await agent({ apps: app('heal', git.url('heal'), ns, { interval: '10m' }) });
    await waitFor(async () => (await a.status()).apps[0]!.lastAppliedCommit === sha, 30_000, 'first apply');
    await rolledOut(a, ns);
    await kubectl(['-n', ns, 'scale', 'deployment', 'web', '--replicas=5']);
    const { elapsedMs } = await waitFor(async () => (await replicas(ns)) === 2, 10_000, 'replicas reverted');
    expect(elapsedMs).toBeLessThan(10_000);
    const healed = await waitFor(
      // The one with the scale's field: while the controllers update the Deployment's status
      // the agent may also record a heal with no field (its live read and dry-run straddle one).
      async () =>
        (await readAuditLog(a.auditLog, { result: 'drift-healed' })).find((r) =>
          r.objects.some((o) => (o.fields ?? []).length > 0),
        ),
      5000,
      'the drift-healed record',
    );
    expect(healed.value.trigger).toBe('watch');
    expect(healed.value.objects[0]).toMatchObject({
      kind: 'Deployment',
      name: 'web',
      action: 'healed',
      fields: [
        {
          path: '.spec.replicas',
          desired: 2,
          live: 5,
          owners: [expect.objectContaining({ manager: 'kubectl', operation: 'Update' })],
        },
      ],
    });
  });

  it('reports kubectl scale in report mode without reverting it', async () => {
    const ns = await namespace('report');
    const repo = git.createRepo('report');
    repo.commit({ 'app/web.yaml': deploymentYaml(2) }, 'web');
    expect(
      (await tether(['sync', '--repo', git.url('report'), '--path', 'app', '-n', ns, '--app', 'report']))
        .code,
    ).toBe(0);
    const a = await agent({
      apps: app('report', git.url('report'), ns, { interval: '10m', mode: 'report' }),
    });
    await waitFor(async () => (await a.status()).apps[0]!.state === 'in-sync', 30_000, 'in sync');
    await kubectl(['-n', ns, 'scale', 'deployment', 'web', '--replicas=4']);
    await waitFor(async () => (await a.status()).apps[0]!.state === 'drifted', 10_000, 'drift reported');
    expect(await a.metric('tether_drifted_objects', { app: 'report' })).toBe(1);
    const found = (await readAuditLog(a.auditLog, { result: 'drift-found' }))[0]!;
    expect(found.objects[0]!.fields![0]).toMatchObject({
      path: '.spec.replicas',
      live: 4,
      owners: [expect.objectContaining({ manager: 'kubectl' })],
    });
    await sleep(1000);
    expect(await replicas(ns)).toBe(4);
  });

  it('applies a push at once on a signed webhook, and refuses a badly signed one', async () => {
    const ns = await namespace('hook');
    const repo = git.createRepo('hook');
    const first = repo.commit({ 'app/web.yaml': deploymentYaml(1) }, 'web');
    const secretFile = join(git.root, 'hook-secret');
    writeFileSync(secretFile, 'hook-secret-value\n');
    const a = await agent({
      apps: app('hook', git.url('hook'), ns, { interval: '10m' }),
      extra: `webhooks:\n  - {name: github, type: github, secretFile: ${secretFile}}\n`,
    });
    await waitFor(async () => (await a.status()).apps[0]!.lastAppliedCommit === first, 30_000, 'first apply');
    // Each wake polls Git too: the push must be brought by the webhook alone.
    await rolledOut(a, ns);
    const second = repo.commit({ 'app/web.yaml': deploymentYaml(3) }, 'scale up');
    const body = JSON.stringify({ ref: 'refs/heads/main', repository: { clone_url: git.url('hook') } });
    const post = (signature: string) => postGithubPush(a.url, 'github', body, signature);
    const bad = await post(`sha256=${createHmac('sha256', 'wrong-secret').update(body).digest('hex')}`);
    expect(bad.status).toBe(401);
    await sleep(1500);
    expect((await a.status()).apps[0]!.lastAppliedCommit).toBe(first);
    expect(a.logs()).not.toContain(body);
    const good = await post(`sha256=${createHmac('sha256', 'hook-secret-value').update(body).digest('hex')}`);
    expect(good.status).toBe(202);
    expect(await good.json()).toEqual({ triggered: ['hook'] });
    await waitFor(
      async () => (await a.status()).apps[0]!.lastAppliedCommit === second,
      5000,
      'webhook-triggered apply',
    );
    expect(await replicas(ns)).toBe(3);
    expect((await readAuditLog(a.auditLog, { commit: second }))[0]!.trigger).toBe('webhook');
  });

  it('keeps the audit chain whole when the agent is killed with SIGKILL during appends', async () => {
    const ns = await namespace('kill');
    const repo = git.createRepo('kill');
    repo.commit({ 'app/web.yaml': deploymentYaml(1) }, 'web');
    const a = await agent({ apps: app('kill', git.url('kill'), ns, { interval: '10m' }) });
    await waitFor(async () => (await a.status()).apps[0]!.lastAppliedCommit, 30_000, 'first apply');
    // Drift again and again: every heal appends a record; kill in the middle of that.
    for (let i = 0; i < 6; i++) {
      await kubectl(['-n', ns, 'scale', 'deployment', 'web', `--replicas=${3 + i}`]);
      await sleep(120);
    }
    await a.stop('SIGKILL');
    const after = await verifyAuditLog(a.auditLog);
    if (!after.ok) expect(after.reason).toMatch(/incomplete last line/);
    const b = await agent({ apps: app('kill', git.url('kill'), ns, { interval: '10m' }), dir: a.dir });
    await waitFor(async () => (await b.status()).apps[0]!.reconciles > 0, 30_000, 'restart');
    await kubectl(['-n', ns, 'scale', 'deployment', 'web', '--replicas=9']);
    await waitFor(async () => (await replicas(ns)) === 1, 10_000, 'healed after restart');
    await b.stop('SIGTERM');
    const final = await verifyAuditLog(a.auditLog);
    expect(final).toMatchObject({ ok: true });
    expect(final.records).toBeGreaterThan(2);
  });

  it('refuses a broken commit with a clear record, keeps the previous commit in force, and recovers', async () => {
    const ns = await namespace('refuse');
    const repo = git.createRepo('refuse');
    const good = repo.commit({ 'app/web.yaml': deploymentYaml(2) }, 'web');
    const a = await agent({ apps: app('refuse', git.url('refuse'), ns, { interval: '1s' }) });
    await waitFor(async () => (await a.status()).apps[0]!.lastAppliedCommit === good, 30_000, 'first apply');
    const bad = repo.commit(
      { 'app/broken.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [oops\n' },
      'a broken manifest',
    );
    const refused = await waitFor(
      async () => (await readAuditLog(a.auditLog, { result: 'commit-refused' }))[0],
      10_000,
      'the commit-refused record',
    );
    expect(refused.value.commit).toMatchObject({
      sha: bad,
      message: 'a broken manifest',
      author: 'Test Author <author@example.com>',
    });
    expect(refused.value.error).toMatch(/app\/broken\.yaml:\d+:\d+ \(commit [0-9a-f]{7}\): invalid YAML/);
    const st = (await a.status()).apps[0]!;
    expect(st.state).toBe('error');
    expect(st.lastError).toMatch(/broken\.yaml/);
    // The previous commit stays in force: drift is still healed.
    await kubectl(['-n', ns, 'scale', 'deployment', 'web', '--replicas=6']);
    await waitFor(async () => (await replicas(ns)) === 2, 10_000, 'healed under the previous commit');
    const fixed = repo.commit({ 'app/broken.yaml': null, 'app/web.yaml': deploymentYaml(3) }, 'fix');
    await waitFor(
      async () => (await a.status()).apps[0]!.lastAppliedCommit === fixed,
      10_000,
      'the fix applied',
    );
    expect((await a.status()).apps[0]!.state).toBe('in-sync');
    expect(await replicas(ns)).toBe(3);
  });

  it('lets only the leader write, and hands over within the lease duration when it dies', async () => {
    const ns = await namespace('lease');
    const repo = git.createRepo('lease');
    const first = repo.commit({ 'app/web.yaml': deploymentYaml(1) }, 'web');
    const extra = `leaderElection: {enabled: true, namespace: ${ns}, leaseName: tether, leaseDurationSeconds: 5}\n`;
    const apps = app('lease', git.url('lease'), ns, { interval: '1s' });
    const one = await agent({ apps, extra, env: { POD_NAME: 'agent-one' } });
    await waitFor(async () => (await one.status()).leader, 20_000, 'first agent leads');
    const two = await agent({ apps, extra, env: { POD_NAME: 'agent-two' } });
    await waitFor(
      async () => (await one.status()).apps[0]!.lastAppliedCommit === first,
      30_000,
      'leader applied',
    );
    await sleep(2000);
    expect((await two.status()).leader).toBe(false);
    expect((await two.status()).apps[0]!.reconciles).toBe(0);
    expect(await two.metric('tether_api_requests_total', { verb: 'patch' })).toBe(0);
    const holder = await kubectl([
      '-n',
      ns,
      'get',
      'lease',
      'tether',
      '-o',
      'jsonpath={.spec.holderIdentity}',
    ]);
    expect(holder).toBe('agent-one');

    await one.stop('SIGKILL');
    const killedAt = Date.now();
    await waitFor(async () => (await two.status()).leader, 15_000, 'standby takes over');
    expect(Date.now() - killedAt).toBeLessThan(5000 + 3000);
    const second = repo.commit({ 'app/web.yaml': deploymentYaml(2) }, 'scale');
    await waitFor(
      async () => (await two.status()).apps[0]!.lastAppliedCommit === second,
      15_000,
      'new leader applies',
    );
    expect(await replicas(ns)).toBe(2);
  });
});
