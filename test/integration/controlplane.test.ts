/**
 * The local control plane rolls workloads out as a cluster does: kube-controller-manager,
 * kube-scheduler and kwok's simulated nodes (tools/controlplane/run.ts). Deployments become
 * available, Jobs complete, deleted namespaces go away, ServiceAccounts get tokens, and a
 * rollout that cannot progress says so (what health checks rely on).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createNamespace, kubectl, kubectlJson } from '../support/cluster.ts';
import { configMap, deployment, kubeObject, toYaml } from '../support/objects.ts';

/** Polls get() until check() holds, then returns the last value; fails with the last value seen. */
async function until<T>(
  what: string,
  get: () => Promise<T>,
  check: (v: T) => boolean,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < deadline) {
    try {
      last = await get();
      if (check(last)) return last;
    } catch (e) {
      last = undefined;
      if (Date.now() + 500 >= deadline) throw e;
    }
    await sleep(500);
  }
  throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last)?.slice(0, 2000)}`);
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
}
interface Workload {
  spec: { nodeName?: string };
  status?: {
    availableReplicas?: number;
    readyReplicas?: number;
    succeeded?: number;
    phase?: string;
    podIP?: string;
    conditions?: Condition[];
  };
}
interface List<T> {
  items: T[];
}

const condition = (o: Workload, type: string): Condition | undefined =>
  o.status?.conditions?.find((c) => c.type === type);

describe('local control plane', () => {
  it('rolls a Deployment out: a ReplicaSet, two pods Ready on kwok nodes, two available', async () => {
    const ns = await createNamespace('rollout');
    try {
      await kubectl(
        ['apply', '-f', '-'],
        toYaml(deployment({ name: 'web', namespace: ns.name, replicas: 2 })),
      );
      const d = await until(
        'deployment web to have 2 available replicas',
        () => kubectlJson<Workload>(['-n', ns.name, 'get', 'deployment', 'web']),
        (x) => x.status?.availableReplicas === 2,
      );
      expect(condition(d, 'Available')?.status).toBe('True');
      const rs = await kubectlJson<List<Workload>>(['-n', ns.name, 'get', 'replicasets', '-l', 'app=web']);
      expect(rs.items).toHaveLength(1);
      const pods = await kubectlJson<List<Workload>>(['-n', ns.name, 'get', 'pods', '-l', 'app=web']);
      expect(pods.items).toHaveLength(2);
      for (const p of pods.items) {
        // The local control plane's simulated nodes; any node on a cluster of the user's own.
        expect(p.spec.nodeName).toMatch(process.env.TETHER_TEST_KUBECONFIG ? /./ : /^kwok-node-\d$/);
        expect(p.status?.phase).toBe('Running');
        expect(p.status?.podIP).toBeTruthy();
        expect(condition(p, 'Ready')?.status).toBe('True');
      }
    } finally {
      await ns.cleanup();
    }
  });

  it('completes a Job: its pod Succeeded, the Job Complete', async () => {
    const ns = await createNamespace('job');
    try {
      const job = kubeObject(
        'batch/v1',
        'Job',
        { name: 'once', namespace: ns.name },
        {
          spec: {
            backoffLimit: 0,
            template: {
              spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.36' }] },
            },
          },
        },
      );
      await kubectl(['apply', '-f', '-'], toYaml(job));
      const done = await until(
        'job once to complete',
        () => kubectlJson<Workload>(['-n', ns.name, 'get', 'job', 'once']),
        (x) => condition(x, 'Complete')?.status === 'True',
      );
      expect(done.status?.succeeded).toBe(1);
      const pods = await kubectlJson<List<Workload>>(['-n', ns.name, 'get', 'pods', '-l', 'job-name=once']);
      expect(pods.items.map((p) => p.status?.phase)).toEqual(['Succeeded']);
    } finally {
      await ns.cleanup();
    }
  });

  it('finishes deleting a namespace with objects in it', async () => {
    const ns = await createNamespace('gone');
    await kubectl(
      ['apply', '-f', '-'],
      toYaml(
        configMap({ name: 'c', namespace: ns.name, data: { k: 'v' } }),
        deployment({ name: 'web', namespace: ns.name }),
      ),
    );
    await kubectl(['delete', 'namespace', ns.name, '--wait=false']);
    await until(
      `namespace ${ns.name} to disappear`,
      () => kubectl(['get', 'namespaces', '-o', 'name']),
      (names) => !names.split('\n').includes(`namespace/${ns.name}`),
    );
  });

  it('gives ServiceAccounts tokens: `kubectl create token`, and a projected token volume in pods', async () => {
    const ns = await createNamespace('sa');
    try {
      // The service-account controller creates `default` in every new namespace.
      await until(
        'the default ServiceAccount',
        () => kubectl(['-n', ns.name, 'get', 'serviceaccounts', '-o', 'name']),
        (names) => names.includes('serviceaccount/default'),
      );
      await kubectl(['-n', ns.name, 'create', 'serviceaccount', 'robot']);
      const token = (await kubectl(['-n', ns.name, 'create', 'token', 'robot'])).trim();
      const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string };
      expect(claims.sub).toBe(`system:serviceaccount:${ns.name}:robot`);

      const pod = kubeObject(
        'v1',
        'Pod',
        { name: 'p', namespace: ns.name },
        { spec: { serviceAccountName: 'robot', containers: [{ name: 'main', image: 'nginx:1.27' }] } },
      );
      await kubectl(['apply', '-f', '-'], toYaml(pod));
      const live = await kubectlJson<{ spec: { volumes?: { name: string; projected?: unknown }[] } }>([
        '-n',
        ns.name,
        'get',
        'pod',
        'p',
      ]);
      const volume = live.spec.volumes?.find((v) => v.name.startsWith('kube-api-access-'));
      expect(JSON.stringify(volume?.projected)).toContain('serviceAccountToken');
    } finally {
      await ns.cleanup();
    }
  });

  it('reports a Deployment that cannot be scheduled as ProgressDeadlineExceeded', async () => {
    const ns = await createNamespace('stuck');
    try {
      const d = deployment({
        name: 'nowhere',
        namespace: ns.name,
        podSpec: { nodeSelector: { 'tether.test/no-such-node': 'true' } },
      });
      const stuck = { ...d, spec: { ...d.spec, progressDeadlineSeconds: 15 } };
      await kubectl(['apply', '-f', '-'], toYaml(stuck));
      const live = await until(
        'deployment nowhere to report ProgressDeadlineExceeded',
        () => kubectlJson<Workload>(['-n', ns.name, 'get', 'deployment', 'nowhere']),
        (x) => condition(x, 'Progressing')?.reason === 'ProgressDeadlineExceeded',
        90_000,
      );
      expect(condition(live, 'Progressing')?.status).toBe('False');
      expect(condition(live, 'Available')?.status).toBe('False');
      expect(live.status?.availableReplicas ?? 0).toBe(0);
      const pods = await kubectlJson<List<Workload>>(['-n', ns.name, 'get', 'pods', '-l', 'app=nowhere']);
      expect(pods.items.map((p) => p.status?.phase)).toEqual(['Pending']);
      expect(condition(pods.items[0]!, 'PodScheduled')?.status).toBe('False');
    } finally {
      await ns.cleanup();
    }
  });
});
