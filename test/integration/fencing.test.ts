/**
 * Fencing between replicas: a leader frozen (SIGSTOP) in the middle of an apply, while the
 * other replica takes over and applies newer commits, writes nothing once it resumes. The
 * freeze is aimed with a failpoint (after the 5th object's apply), as a node pause or a long
 * GC would land it.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/record.ts';
import { startAgent, waitFor, type RunningAgent } from '../support/agent.ts';
import { createNamespace, kubectl } from '../support/cluster.ts';
import { GitServer } from '../support/git-server.ts';
import { configMap, toYaml } from '../support/objects.ts';

const N = 40;
const files = (value: string) =>
  Object.fromEntries(
    Array.from({ length: N }, (_, i) => [
      `app/cm-${String(i).padStart(2, '0')}.yaml`,
      toYaml(configMap({ name: `cm-${String(i).padStart(2, '0')}`, data: { v: value } })),
    ]),
  );

const procState = (pid: number): string =>
  readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /s, '')
    .split(' ')[0]!;

describe('fencing', () => {
  let git: GitServer;
  const agents: RunningAgent[] = [];
  beforeAll(async () => {
    git = await GitServer.start();
  });
  afterAll(async () => {
    for (const a of agents) {
      a.proc.kill('SIGCONT');
      await a.stop('SIGKILL');
    }
    await git.close();
  });

  it('a leader frozen mid-apply writes nothing of its old commit after the other replica took over', async () => {
    const ns = await createNamespace('fence');
    try {
      const repo = git.createRepo('fence');
      repo.commit(files('v1'), 'v1');
      const extra = `leaderElection: {enabled: true, namespace: ${ns.name}, leaseName: tether, leaseDurationSeconds: 5}\n`;
      const apps = `  - name: fence
    source: {repo: "${git.url('fence')}", ref: main, path: app, interval: 1s}
    destination: {namespace: ${ns.name}, kubeconfig: KUBECONFIG}
`;
      const one = await startAgent({
        apps,
        extra,
        env: { POD_NAME: 'agent-one', TETHER_FAILPOINTS: 'after-apply-object=stop@5' },
        waitReady: false,
      });
      agents.push(one);
      await waitFor(() => procState(one.proc.pid!) === 'T', 60_000, 'the leader frozen mid-apply');

      const two = await startAgent({ apps, extra, env: { POD_NAME: 'agent-two' }, waitReady: false });
      agents.push(two);
      await waitFor(
        async () => (await two.status().catch(() => undefined))?.leader,
        30_000,
        'standby takes over',
      );
      const v2 = repo.commit(files('v2'), 'v2');
      await waitFor(async () => (await two.status()).apps[0]!.lastAppliedCommit === v2, 30_000, 'v2 applied');
      const v3 = repo.commit(files('v3'), 'v3');
      await waitFor(async () => (await two.status()).apps[0]!.lastAppliedCommit === v3, 30_000, 'v3 applied');

      // The old leader wakes up in the middle of writing v1.
      one.proc.kill('SIGCONT');
      await sleep(4000);
      const values = await kubectl([
        '-n',
        ns.name,
        'get',
        'configmap',
        '-l',
        'tether.dev/app=fence',
        '-o',
        'jsonpath={range .items[*]}{.data.v}{"\\n"}{end}',
      ]);
      expect(values.trim().split('\n')).toEqual(Array.from({ length: N }, () => 'v3'));
      expect((await one.status()).leader).toBe(false);

      // Its log: the intent of v1 and a partial completion that says why it stopped; never 'applied'.
      const records = readFileSync(one.auditLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as AuditRecord);
      expect(records.map((r) => r.result)).not.toContain('applied');
      const done = records.find((r) => r.result === 'partial' || r.result === 'error');
      expect(done?.error).toMatch(/lease/);
      const written = done!.objects.filter((o) => o.action === 'created' || o.action === 'configured');
      expect(written.length).toBeGreaterThanOrEqual(5);
      expect(written.length).toBeLessThan(N);
    } finally {
      await ns.cleanup();
    }
  });
});
