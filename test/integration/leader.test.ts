/**
 * Leader election against the real kube-apiserver: one leader at a time, takeover when the
 * leader dies, immediate handover on release, and a leader that cannot renew steps down
 * before anyone else may take over.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LeaderConfigError, LeaderElector, microTime } from '../../src/agent/leader.ts';
import { KubeClient, type RequestSpec } from '../../src/cluster/client.ts';
import { ApiUnreachableError } from '../../src/cluster/errors.ts';
import { createNamespace, kubeconfig, kubectl, kubectlJson } from '../support/cluster.ts';

interface LeaseJson {
  spec: { holderIdentity?: string; leaseTransitions?: number; renewTime?: string; acquireTime?: string };
}

async function within(ms: number, check: () => void | Promise<void>): Promise<number> {
  const start = Date.now();
  for (;;) {
    try {
      await check();
      return Date.now() - start;
    } catch (e) {
      if (Date.now() - start > ms) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const MICRO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

describe('leader election', () => {
  let ns: { name: string; cleanup: () => Promise<void> };
  let client: KubeClient;
  const electors: LeaderElector[] = [];
  let leaseNo = 0;

  beforeAll(async () => {
    ns = await createNamespace('le');
    client = await KubeClient.create({ kubeconfig: kubeconfig() });
  });
  afterEach(() => {
    for (const e of electors.splice(0)) e.stop();
  });
  afterAll(async () => {
    client?.close();
    await ns?.cleanup();
  });

  /** A candidate with short timings (lease 3 s, renew deadline 2 s, retry 0.5 s) and a record of its terms. */
  function candidate(identity: string, name: string, c: KubeClient = client) {
    const terms: { signal: AbortSignal; start: number; end?: number }[] = [];
    const elector = new LeaderElector(c, {
      namespace: ns.name,
      name,
      identity,
      leaseDurationSeconds: 3,
      renewDeadlineSeconds: 2,
      retryPeriodSeconds: 0.5,
      onStartedLeading: (signal) => terms.push({ signal, start: Date.now() }),
      onStoppedLeading: () => {
        const t = terms.at(-1)!;
        expect(t.signal.aborted).toBe(true); // the work is told to stop before anything else
        t.end = Date.now();
      },
    });
    electors.push(elector);
    return { elector, terms, identity };
  }

  const lease = (name: string) => kubectlJson<LeaseJson>(['-n', ns.name, 'get', 'lease', name]);
  const newLease = () => `tether-${++leaseNo}`;

  it('elects exactly one of two candidates and hands over when the leader dies', async () => {
    const name = newLease();
    const a = candidate('agent-a', name);
    const b = candidate('agent-b', name);
    a.elector.start();
    b.elector.start();
    await within(3000, () => expect([a, b].filter((c) => c.elector.isLeader)).toHaveLength(1));
    const [leader, standby] = a.elector.isLeader ? [a, b] : [b, a];

    // Stays that way while the leader renews: well past a lease duration.
    const first = await lease(name);
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 500));
      expect(leader.elector.isLeader).toBe(true);
      expect(standby.elector.isLeader).toBe(false);
    }
    const held = await lease(name);
    expect(held.spec.holderIdentity).toBe(leader.identity);
    expect(held.spec.renewTime).toMatch(MICRO);
    expect(held.spec.renewTime! > first.spec.renewTime!).toBe(true);
    expect(held.spec.acquireTime).toBe(first.spec.acquireTime);
    expect(leader.terms).toHaveLength(1);
    expect(standby.terms).toHaveLength(0);

    // Dies without releasing: the standby waits out the lease, then takes over.
    const killedAt = Date.now();
    leader.elector.stop();
    expect(leader.terms[0]!.signal.aborted).toBe(true);
    await within(5000, () => expect(standby.elector.isLeader).toBe(true));
    const tookMs = Date.now() - killedAt;
    console.log(`leader: takeover ${tookMs} ms after the leader died (lease 3 s)`);
    expect(tookMs).toBeGreaterThan(2000); // not before the lease could have expired
    expect(tookMs).toBeLessThan(3000 + 1500);
    const after = await lease(name);
    expect(after.spec.holderIdentity).toBe(standby.identity);
    expect(after.spec.leaseTransitions).toBe((held.spec.leaseTransitions ?? 0) + 1);
  });

  it('hands over at once on release()', async () => {
    const name = newLease();
    const a = candidate('agent-a', name);
    a.elector.start();
    await within(3000, () => expect(a.elector.isLeader).toBe(true));
    const b = candidate('agent-b', name);
    b.elector.start();
    await new Promise((r) => setTimeout(r, 1000));
    expect(b.elector.isLeader).toBe(false);

    const releasedAt = Date.now();
    await a.elector.release();
    expect(a.elector.isLeader).toBe(false);
    expect(a.terms[0]!.end).toBeDefined();
    await within(2000, () => expect(b.elector.isLeader).toBe(true));
    const tookMs = Date.now() - releasedAt;
    console.log(`leader: takeover ${tookMs} ms after release()`);
    expect(tookMs).toBeLessThan(1500); // about one retry period, not a lease duration
    const after = await lease(name);
    expect(after.spec.holderIdentity).toBe('agent-b');
    expect(after.spec.leaseTransitions).toBe(1); // created by a (0), taken by b (1)

    // The released candidate does not come back.
    await new Promise((r) => setTimeout(r, 1000));
    expect(a.terms).toHaveLength(1);
    expect((await lease(name)).spec.holderIdentity).toBe('agent-b');
  });

  it('steps down within the renew deadline when it cannot reach the server, and never writes after', async () => {
    const name = newLease();
    let broken = false;
    const writes: string[] = [];
    // The real client, with a switch that makes every request fail as an unreachable server would.
    const flaky = {
      request: (spec: RequestSpec) => {
        if (broken) return Promise.reject(new ApiUnreachableError('network is down'));
        if (spec.method !== 'GET') writes.push(`${spec.method} ${Date.now()}`);
        return client.request(spec);
      },
    } as unknown as KubeClient;
    const a = candidate('agent-a', name, flaky);
    a.elector.start();
    await within(3000, () => expect(a.elector.isLeader).toBe(true));
    const b = candidate('agent-b', name);
    b.elector.start();
    await new Promise((r) => setTimeout(r, 1000));

    broken = true;
    const brokeAt = Date.now();
    await within(3000, () => expect(a.elector.isLeader).toBe(false));
    const steppedDownMs = Date.now() - brokeAt;
    expect(a.terms[0]!.signal.aborted).toBe(true);
    await within(5000, () => expect(b.elector.isLeader).toBe(true));
    const takeoverMs = Date.now() - brokeAt;
    console.log(`leader: stepped down after ${steppedDownMs} ms, standby took over after ${takeoverMs} ms`);
    expect(steppedDownMs).toBeLessThanOrEqual(2000 + 300); // renew deadline, plus polling slack
    expect(a.terms[0]!.end! - brokeAt).toBeLessThan(takeoverMs); // no overlap of terms

    const writesBefore = writes.length;
    broken = false; // the network comes back: a sees b holding a live lease and stays standby
    await new Promise((r) => setTimeout(r, 1500));
    expect(a.elector.isLeader).toBe(false);
    expect(writes.length).toBe(writesBefore);
    expect((await lease(name)).spec.holderIdentity).toBe('agent-b');
  });

  it('steps down when someone else takes the lease, and does not fight for it before it expires', async () => {
    const name = newLease();
    const a = candidate('agent-a', name);
    a.elector.start();
    await within(3000, () => expect(a.elector.isLeader).toBe(true));
    await kubectl([
      '-n',
      ns.name,
      'patch',
      'lease',
      name,
      '--type=merge',
      '-p',
      '{"spec":{"holderIdentity":"intruder"}}',
    ]);
    await within(1500, () => expect(a.elector.isLeader).toBe(false));
    await new Promise((r) => setTimeout(r, 1500));
    expect((await lease(name)).spec.holderIdentity).toBe('intruder');
    // The intruder never renews: once the lease has expired, a takes it back.
    await within(3000, () => expect(a.elector.isLeader).toBe(true));
    expect(a.terms).toHaveLength(2);
  });

  it('checks its timings and writes MicroTime', () => {
    const opts = {
      namespace: 'x',
      name: 'y',
      identity: 'z',
      onStartedLeading: () => {},
      onStoppedLeading: () => {},
    };
    expect(
      () => new LeaderElector(client, { ...opts, leaseDurationSeconds: 10, renewDeadlineSeconds: 10 }),
    ).toThrow(LeaderConfigError);
    expect(() => new LeaderElector(client, { ...opts, identity: '' })).toThrow(LeaderConfigError);
    expect(microTime(Date.UTC(2026, 0, 1, 0, 0, 0, 123))).toBe('2026-01-01T00:00:00.123000Z');
  });
});
