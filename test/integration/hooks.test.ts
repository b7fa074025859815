/**
 * Sync hooks through the CLI against a control plane with controllers (kwok completes a
 * Job's pods): a pre-sync Job runs before the app's objects and is deleted by
 * hook-succeeded; a failing pre-sync Job stops the sync, nothing of the app is applied, and
 * the sync-fail Job runs; hooks are not in the inventory and prune leaves a kept one alone.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startAgent, waitFor } from '../support/agent.ts';
import { createNamespace, kubectl, kubectlJson, tether } from '../support/cluster.ts';
import { configMap, toYaml } from '../support/objects.ts';
import { gitServerSuite } from '../support/suite.ts';

const suite = gitServerSuite();
let workDir: string;
beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'tether-hooks-'));
});

/** A hook Job; `fail` keeps its pod unschedulable so the Job controller fails it at its deadline. */
function job(
  meta: { name?: string; generateName?: string; annotations: Record<string, string> },
  fail = false,
): Record<string, unknown> {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta,
    spec: {
      backoffLimit: 0,
      ...(fail ? { activeDeadlineSeconds: 1 } : {}),
      template: {
        spec: {
          restartPolicy: 'Never',
          ...(fail ? { nodeSelector: { 'tether.test/no-such-node': 'x' } } : {}),
          containers: [{ name: 'main', image: 'busybox:1.36' }],
        },
      },
    },
  };
}

interface Rec {
  result: string;
  objects: { kind: string; name: string; action: string }[];
  details?: { hooks?: { phase: string; kind: string; name: string; outcome: string; deleted: boolean }[] };
}

async function sync(repo: string, ns: string, ...extra: string[]) {
  const log = join(workDir, `${repo}.jsonl`);
  const r = await tether(
    ['sync', '--repo', suite.git().url(repo), '--path', 'app', '-n', ns, '--audit-log', log, ...extra],
    {},
    workDir,
  );
  const records = () =>
    readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Rec);
  return { r, records };
}

const names = async (ns: string, kind: string) =>
  (await kubectl(['-n', ns, 'get', kind, '-o', 'name'])).trim().split('\n').filter(Boolean);

describe('sync hooks', () => {
  it('runs a generateName pre-sync Job before the app and deletes it by hook-succeeded', async () => {
    const repo = suite.git().createRepo('hooks-ok');
    repo.commit(
      {
        'app/cm.yaml': toYaml(configMap({ name: 'web', data: { a: '1' } })),
        'app/migrate.yaml': toYaml(
          job({
            generateName: 'migrate-',
            annotations: {
              'argocd.argoproj.io/hook': 'PreSync',
              'argocd.argoproj.io/hook-delete-policy': 'HookSucceeded',
            },
          }),
        ),
        // Kept (before-hook-creation only): its completion time is compared below.
        'app/kept.yaml': toYaml(
          job({ name: 'kept', annotations: { 'helm.sh/hook': 'pre-install,pre-upgrade' } }),
        ),
      },
      'a migration',
    );
    const ns = await createNamespace('hooks');
    suite.cleanups.push(ns.cleanup);
    const { r, records } = await sync('hooks-ok', ns.name);
    expect(r.code, r.stderr).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.includes('/migrate-'))!;
    expect(line).toMatch(/created\s+batch\/v1 Job .*\/migrate-[a-z0-9]{5}\s+\(pre-sync hook succeeded/);
    expect(line).toContain('deleted (hook-succeeded)');
    // Deleted by its policy (its pods go with it, in the background); the other one kept.
    expect(await names(ns.name, 'jobs')).toEqual(['job.batch/kept']);
    const completed = await kubectl([
      '-n',
      ns.name,
      'get',
      'job',
      'kept',
      '-o',
      'jsonpath={.status.completionTime}',
    ]);
    const created = await kubectl([
      ...['-n', ns.name, 'get', 'configmap', 'web'],
      ...['-o', 'jsonpath={.metadata.creationTimestamp}'],
    ]);
    expect(Date.parse(completed)).toBeLessThanOrEqual(Date.parse(created));
    const rec = records().at(-1)!;
    expect(rec.result).toBe('applied');
    const hook = rec.details?.hooks?.find((h) => h.name !== 'kept');
    expect(hook).toMatchObject({ phase: 'pre-sync', kind: 'Job', outcome: 'succeeded', deleted: true });
    expect(hook?.name).toMatch(/^migrate-/);
    // The hook ran first: the Job is named before the ConfigMap, and the ConfigMap was created
    // after the Job completed.
    expect(rec.objects.map((o) => o.kind)).toEqual(['Job', 'Job', 'ConfigMap']);
    // Not in the inventory: it records the ConfigMap alone.
    const count = await kubectl([
      ...['-n', ns.name, 'get', 'configmap', '-l', 'tether.dev/inventory'],
      ...['-o', 'jsonpath={.items[0].data.count}'],
    ]);
    expect(count).toBe('1');
  });

  it('a failing pre-sync Job stops the sync and runs the sync-fail hook', async () => {
    const repo = suite.git().createRepo('hooks-fail');
    repo.commit(
      {
        'app/cm.yaml': toYaml(configMap({ name: 'web', data: { a: '1' } })),
        'app/check.yaml': toYaml(
          job({ name: 'check', annotations: { 'tether.dev/hook': 'pre-sync' } }, true),
        ),
        'app/alert.yaml': toYaml(
          job({
            name: 'alert',
            annotations: { 'tether.dev/hook': 'sync-fail', 'tether.dev/hook-delete-policy': 'hook-failed' },
          }),
        ),
      },
      'a failing check',
    );
    const ns = await createNamespace('hooks');
    suite.cleanups.push(ns.cleanup);
    const { r, records } = await sync('hooks-fail', ns.name);
    expect(r.code, r.stdout).toBe(2);
    expect(r.stderr).toContain(`pre-sync hook batch/v1 Job ${ns.name}/check failed`);
    expect(r.stderr).toContain('DeadlineExceeded');
    expect(await names(ns.name, 'configmap')).not.toContain('configmap/web');
    // The failed hook is kept (before-hook-creation only); the sync-fail hook ran and completed.
    const alert = await kubectlJson<{ status: { conditions?: { type: string; status: string }[] } }>([
      '-n',
      ns.name,
      'get',
      'job',
      'alert',
    ]);
    expect(alert.status.conditions).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'Complete', status: 'True' })]),
    );
    const rec = records().at(-1)!;
    expect(rec.details?.hooks).toEqual([
      expect.objectContaining({ phase: 'pre-sync', name: 'check', outcome: 'failed' }),
      expect.objectContaining({ phase: 'sync-fail', name: 'alert', outcome: 'succeeded' }),
    ]);
    expect(rec.objects.find((o) => o.name === 'check')?.action).toBe('error');
  });

  it('runs a sync hook in its wave: after the wave is written, before the next; a failed one stops the waves', async () => {
    const wave = (n: number) => ({ 'tether.dev/sync-wave': String(n) });
    const files = (fail: boolean) => ({
      'app/a.yaml': toYaml(configMap({ name: 'first', data: { a: '1' }, annotations: wave(0) })),
      'app/b.yaml': toYaml(configMap({ name: 'second', data: { b: '1' }, annotations: wave(1) })),
      'app/hook.yaml': toYaml(
        job({ name: 'between', annotations: { 'tether.dev/hook': 'sync', ...wave(0) } }, fail),
      ),
    });
    suite.git().createRepo('hooks-wave').commit(files(false), 'a sync hook in wave 0');
    const ns = await createNamespace('hooks');
    suite.cleanups.push(ns.cleanup);
    const { r } = await sync('hooks-wave', ns.name);
    expect(r.code, r.stderr).toBe(0);
    const at = (kind: string, name: string, path: string) =>
      kubectl(['-n', ns.name, 'get', kind, name, '-o', `jsonpath={${path}}`]).then(Date.parse);
    expect(await at('configmap', 'first', '.metadata.creationTimestamp')).toBeLessThanOrEqual(
      await at('job', 'between', '.metadata.creationTimestamp'),
    );
    expect(await at('job', 'between', '.status.completionTime')).toBeLessThanOrEqual(
      await at('configmap', 'second', '.metadata.creationTimestamp'),
    );

    suite.git().createRepo('hooks-wave-fail').commit(files(true), 'a failing sync hook in wave 0');
    const ns2 = await createNamespace('hooks');
    suite.cleanups.push(ns2.cleanup);
    const failed = await sync('hooks-wave-fail', ns2.name);
    expect(failed.r.code, failed.r.stdout).toBe(2);
    expect(failed.r.stderr).toContain(`sync hook batch/v1 Job ${ns2.name}/between failed`);
    expect(failed.r.stderr).toContain('later waves were not applied');
    const cms = await names(ns2.name, 'configmap');
    expect(cms).toContain('configmap/first');
    expect(cms).not.toContain('configmap/second');
  });

  it('a kept hook is not in the inventory and a later sync with --prune leaves it', async () => {
    const repo = suite.git().createRepo('hooks-prune');
    const files = {
      'app/cm.yaml': toYaml(configMap({ name: 'web', data: { a: '1' } })),
      // hook-failed only: kept after success.
      'app/seed.yaml': toYaml(
        job({
          name: 'seed',
          annotations: {
            'helm.sh/hook': 'post-install,post-upgrade',
            'helm.sh/hook-delete-policy': 'hook-failed',
          },
        }),
      ),
    };
    repo.commit(files, 'seed after install');
    const ns = await createNamespace('hooks');
    suite.cleanups.push(ns.cleanup);
    const first = await sync('hooks-prune', ns.name, '--prune');
    expect(first.r.code, first.r.stderr).toBe(0);
    expect(first.r.stdout).toMatch(/created\s+batch\/v1 Job .*\/seed\s+\(post-sync hook succeeded/);
    expect(await names(ns.name, 'jobs')).toEqual(['job.batch/seed']);
    repo.commit(
      { 'app/cm.yaml': toYaml(configMap({ name: 'web', data: { a: '2' } })), 'app/seed.yaml': null },
      'no hook',
    );
    const second = await sync('hooks-prune', ns.name, '--prune');
    expect(second.r.code, second.r.stderr).toBe(0);
    expect(second.r.stdout).not.toContain('pruned');
    expect(await names(ns.name, 'jobs')).toEqual(['job.batch/seed']);
  });

  it('the agent does not run a failed pre-sync hook again for the same commit; the next commit syncs', async () => {
    const repo = suite.git().createRepo('hooks-agent');
    const check = (fail: boolean) =>
      toYaml(job({ name: 'check', annotations: { 'tether.dev/hook': 'pre-sync' } }, fail));
    repo.commit(
      { 'app/cm.yaml': toYaml(configMap({ name: 'web', data: { a: '1' } })), 'app/check.yaml': check(true) },
      'a failing check',
    );
    const ns = await createNamespace('hooks');
    suite.cleanups.push(ns.cleanup);
    const a = await startAgent({
      apps: `  - name: shop
    source: {repo: "${suite.git().url('hooks-agent')}", ref: main, path: app, interval: 1s}
    destination: {namespace: ${ns.name}, kubeconfig: KUBECONFIG}
`,
    });
    suite.cleanups.push(() => a.stop('SIGKILL'));
    const failed = await waitFor(
      async () => {
        const st = (await a.status()).apps[0]!;
        return st.state === 'error' && /pre-sync hook/.test(String(st.lastError)) ? st : undefined;
      },
      60_000,
      'the failed pre-sync hook on /status',
    );
    expect(String(failed.value.lastError)).toContain('DeadlineExceeded');
    const uid = () => kubectl(['-n', ns.name, 'get', 'job', 'check', '-o', 'jsonpath={.metadata.uid}']);
    const first = await uid();
    await new Promise((r) => setTimeout(r, 4000));
    // Not run again (before-hook-creation would have replaced it), and nothing applied.
    expect(await uid()).toBe(first);
    expect(await names(ns.name, 'configmap')).not.toContain('configmap/web');
    repo.commit({ 'app/check.yaml': check(false) }, 'a passing check');
    await waitFor(
      async () => (await names(ns.name, 'configmap')).includes('configmap/web'),
      60_000,
      'the next commit applied',
    );
    expect(await uid()).not.toBe(first);
  });
});
