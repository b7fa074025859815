/**
 * `tether sync --wait` as a user runs it, from another directory, against the real API server
 * with its controllers (kube-controller-manager, kube-scheduler, kwok's simulated nodes): an
 * app of objects that are Current at once is healthy (exit 0); a Deployment rolls out and is
 * waited for (exit 0); a Deployment that can never be scheduled is named Failed with its
 * progress deadline (exit 1); each outcome is recorded in the audit log after the apply record.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../support/cluster.ts';
import { configMap, deployment, toYaml } from '../../support/objects.ts';
import { gitServerSuite, syncedApp } from '../../support/suite.ts';

const suite = gitServerSuite();
let workDir: string;
beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'tether-wait-'));
});

async function app(name: string, files: Record<string, string>) {
  suite.git().createRepo(name).commit(files, 'app');
  const { ns, audit, run } = await syncedApp(suite, { repo: name, path: 'app', workDir, prefix: 'wait' });
  const records = () =>
    readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { result: string; details?: { health?: Record<string, unknown> } });
  return { ns, run, records };
}

describe('tether sync --wait', () => {
  it('is healthy at once for objects that are Current when applied', async () => {
    const a = await app('wait-current', {
      'app/cm.yaml': toYaml(configMap({ name: 'settings', data: { a: '1' } })),
    });
    const r = await a.run('--wait', '--timeout', '30s');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^healthy +1 objects Current after \d+\.\d s$/m);
    const [, last] = a.records().slice(-2);
    expect(last?.result).toBe('healthy');
    expect(last?.details?.health).toMatchObject({ status: 'Current', timedOut: false, objects: [] });

    const json = await a.run('--wait', '--timeout', '30s', '-o', 'json');
    const parsed = JSON.parse(json.stdout) as {
      health: { status: string };
      objects: { name: string; health: { status: string } }[];
    };
    expect(parsed.health.status).toBe('Current');
    expect(parsed.objects[0]?.health.status).toBe('Current');
  });

  it('names a Deployment that cannot become available, with its health and reason, and exits 1', async () => {
    const stuck = deployment({
      name: 'stuck',
      replicas: 1,
      podSpec: { nodeSelector: { 'tether.dev/no-such-node': 'x' } },
    });
    (stuck.spec as Record<string, unknown>)['progressDeadlineSeconds'] = 10;
    const a = await app('wait-stuck', {
      'app/deploy.yaml': toYaml(stuck),
      'app/cm.yaml': toYaml(configMap({ name: 'fine', data: { a: '1' } })),
    });
    const r = await a.run('--wait', '--timeout', '25s');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^created +apps\/v1 Deployment /m);
    // The Deployment controller gives up at the progress deadline: Failed, with its reason,
    // and the wait stops there rather than at the timeout.
    expect(r.stdout).toMatch(
      new RegExp(
        `^failed +apps/v1 Deployment ${a.ns}/stuck  \\(Failed ProgressDeadlineExceeded: .+\\)$`,
        'm',
      ),
    );
    expect(r.stdout).toMatch(/^not healthy: 1 of 2 objects Current$/m);
    expect(r.stdout).not.toMatch(/ConfigMap .*fine {2}\(/);
    const last = a.records().at(-1);
    expect(last?.result).toBe('degraded');
    expect((last?.details?.health as { objects: { name: string }[] }).objects.map((o) => o.name)).toEqual([
      'stuck',
    ]);
  });

  it('waits for a Deployment to roll out on the simulated nodes, then exits 0', async () => {
    const a = await app('wait-rollout', {
      'app/deploy.yaml': toYaml(deployment({ name: 'web', replicas: 2 })),
    });
    const r = await a.run('--wait', '--timeout', '90s');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^healthy +1 objects Current after \d+\.\d s$/m);
    expect(
      await kubectl(['-n', a.ns, 'get', 'deploy', 'web', '-o', 'jsonpath={.status.availableReplicas}']),
    ).toBe('2');
    expect(a.records().at(-1)?.result).toBe('healthy');
  });

  it('refuses a malformed --timeout before anything is written', async () => {
    const a = await app('wait-timeout', {
      'app/cm.yaml': toYaml(configMap({ name: 'never', data: { a: '1' } })),
    });
    const r = await a.run('--wait', '--timeout', '5');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"5" is not a duration/);
    expect(r.stderr).toMatch(/add a unit: 5s/);
    expect(await kubectl(['-n', a.ns, 'get', 'configmap', 'never', '--ignore-not-found'])).toBe('');
  });
});
