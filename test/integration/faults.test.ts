/**
 * Issue 16: the audit log records every write, and the agent converges whatever fails.
 *
 * A. The agent SIGKILLed at each step of a reconcile that both applies and prunes (failpoints):
 *    a clean agent on the same log converges, the chain verifies, every write of the commit is
 *    in a completion or `recovered` record, and no intent is left open.
 * B. The audit log cannot be appended (its tmpfs full, which stops root too): nothing is
 *    written to the cluster, /status and the metrics say why; space back: the agent resumes.
 * C. Git down: drift of the commit in force is still healed, the app is degraded (source);
 *    Git back: in sync.
 * D. A private control plane: kube-apiserver SIGKILLed mid-apply (once with the agent frozen
 *    between two writes by a failpoint, once behind a relay that loses the answers of writes
 *    the server committed), etcd frozen while idle, etcd SIGKILLed mid-apply.
 *
 * Each scenario has its own namespace, app, repository and audit log, and prints what it left
 * in the audit log ("[faults] ..."). Bugs found were `it.fails` steps named "BUG ..." with the
 * cause in a comment above. FAULTS_KEEP=1 keeps each test's directory (agent and audit logs).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/agent.ts';
import { createNamespace, kubeconfig, tether } from '../support/cluster.ts';
import { startFaultCluster, type FaultCluster } from '../support/fault-cluster.ts';
import { GitServer } from '../support/git-server.ts';
import { configMap, deployment, toYaml } from '../support/objects.ts';
import {
  appliedInSync,
  appYaml,
  configMapValues,
  convergedOn,
  danglingIntents,
  deathOf,
  headSeq,
  kubeconfigVia,
  kubectlAt,
  readRecords,
  recoveryOverclaims,
  scenarioState,
  smallTmpfs,
  startFaultAgent,
  summarize,
  tcpRelay,
  writtenFor,
  type AppStatus,
  type FaultAgent,
} from './faults-helpers.ts';

const name = (i: number) => `cm-${String(i).padStart(3, '0')}`;
const file = (i: number) => `app/${name(i)}.yaml`;
const cm = (i: number, value: string) => toYaml(configMap({ name: name(i), data: { key: value } }));
/** ConfigMaps from..to-1 with data.key = value, as repository files. */
const cms = (from: number, to: number, value: string): Record<string, string | null> =>
  Object.fromEntries(Array.from({ length: to - from }, (_, k) => [file(from + k), cm(from + k, value)]));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => name(from + k));

const log = (line: string) => process.stderr.write(`[faults] ${line}\n`);

/** FAULTS_KEEP=1 keeps every test's directory (agent logs, audit logs, configs) for a look. */
function removeDir(dir: string): void {
  if (process.env.FAULTS_KEEP === '1') log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `tether-faults-${prefix}-`));
}

async function verify(auditLog: string, kc: string) {
  const r = await tether(['audit', 'verify', '--audit-log', auditLog, '--kubeconfig', kc]);
  return { code: r.code, out: `${r.stdout}${r.stderr}`.trim() };
}

/** The facts every fault test ends with, for commit `sha`: chain verified, writes recorded, no intent open. */
async function expectAudited(
  auditLog: string,
  kc: string,
  sha: string,
  expected: { written: string[]; pruned?: string[] },
): Promise<string> {
  const v = await verify(auditLog, kc);
  expect(v.out, 'tether audit verify').toMatch(/ok|intact|verified|anchored/i);
  expect(v.code, `tether audit verify: ${v.out}`).toBe(0);
  const records = readRecords(auditLog);
  const written = writtenFor(records, sha);
  const missing = expected.written.filter((n) => !written.has(n));
  expect(missing, 'objects written for the commit that no record names as written').toEqual([]);
  const notPruned = (expected.pruned ?? []).filter((n) => !written.get(n)?.has('pruned'));
  expect(notPruned, 'objects pruned for the commit that no record names as pruned').toEqual([]);
  expect(danglingIntents(records), 'intents that no later record completes').toEqual([]);
  expect(recoveryOverclaims(records), 'writes a recovered record claims that were made again later').toEqual(
    [],
  );
  return v.out;
}

/** Samples the app's status every `everyMs` for `ms`. */
async function sampleStatus(agent: FaultAgent, ms: number, everyMs = 250): Promise<AppStatus[]> {
  const out: AppStatus[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    out.push(await agent.app());
    await sleep(everyMs);
  }
  return out;
}

const brief = (s: AppStatus) =>
  `${s.state} errors=[${s.errors.join(',')}] lastError=${s.lastError === null ? 'null' : JSON.stringify(s.lastError.slice(0, 100))}`;

let git: GitServer;
beforeAll(async () => {
  git = await GitServer.start();
});
afterAll(async () => {
  await git?.close();
});

// ------------------------------------------------------------------------------------------ A
describe('A: the agent SIGKILLed at each step of a reconcile that applies and prunes', () => {
  const PHASES = [
    'before-first-write=kill',
    'after-intent=kill',
    'after-apply-object=kill@5',
    'after-prune-object=kill@3',
    'after-inventory=kill',
  ];

  it.each(PHASES.map((failpoint, i) => ({ failpoint, i })))(
    '$failpoint: a clean agent converges, verify passes, every write is recorded, no intent dangles',
    async ({ failpoint, i }) => {
      const kc = kubeconfig();
      const ns = await createNamespace(`kill${i}`);
      const dir = tempDir('kill');
      const repoName = `kill-${i}`;
      const repo = git.createRepo(repoName);
      const apps = appYaml(`kill-${i}`, git.url(repoName), ns.name, kc);
      const agents: FaultAgent[] = [];
      try {
        const A = repo.commit(cms(0, 30, 'a'), 'A: thirty configmaps');
        const first = await startFaultAgent({ dir, apps });
        agents.push(first);
        await waitFor(async () => (await first.app()).lastAppliedCommit === A, 30_000, 'A applied');
        expect(await first.stop('SIGTERM', 10_000)).toBe(0);
        const auditLog = first.auditLog;
        const afterA = headSeq(auditLog);

        // B: 20 changed, 10 removed (prune). 10 of 30 is within the prune guard.
        const B = repo.commit(
          { ...cms(0, 20, 'b'), ...Object.fromEntries(range(20, 30).map((_, k) => [file(20 + k), null])) },
          'B: change twenty, remove ten',
        );
        const doomed = await startFaultAgent({
          dir,
          apps,
          env: { TETHER_FAILPOINTS: failpoint },
          waitReady: false,
        });
        agents.push(doomed);
        expect(await deathOf(doomed.proc, doomed.exited, 30_000), doomed.logs().slice(-2000)).toBe('SIGKILL');
        const atDeath = summarize(readRecords(auditLog), afterA);

        const clean = await startFaultAgent({ dir, apps });
        agents.push(clean);
        await waitFor(async () => (await clean.app()).lastAppliedCommit === B, 30_000, 'B applied');
        log(
          `A ${failpoint}: at death: ${atDeath || '(nothing)'}; after: ${summarize(readRecords(auditLog), afterA)}`,
        );

        // (1) converged: B's data everywhere, the ten removed ones gone, nothing Git has deleted.
        const live = await configMapValues(kc, ns.name);
        expect(Object.fromEntries(live)).toEqual(Object.fromEntries(range(0, 20).map((n) => [n, 'b'])));
        // (2)-(4)
        const verified = await expectAudited(auditLog, kc, B, {
          written: range(0, 20),
          pruned: range(20, 30),
        });
        log(`A ${failpoint}: verify: ${verified.replaceAll('\n', ' / ')}`);
        expect((await clean.app()).state).toBe('in-sync');
      } finally {
        for (const a of agents) await a.stop('SIGKILL');
        await ns.cleanup();
        removeDir(dir);
      }
    },
    60_000,
  );
});

// ------------------------------------------------------------------------------------------ B
// Steps of one scenario, in order: each `it` goes on from where the previous one left off.
// Mounting the tmpfs needs root (as root, chmod would not stop the writes: a full disk does).
describe.skipIf(process.getuid?.() !== 0)(
  'B: the audit log cannot be appended (its filesystem is full)',
  () => {
    const kc = () => kubeconfig();
    const scenario = scenarioState<{
      ns: Awaited<ReturnType<typeof createNamespace>>;
      dir: string;
      disk: Awaited<ReturnType<typeof smallTmpfs>>;
      agent?: FaultAgent;
      A: string;
      B: string;
      beforeFull: number;
    }>(async ({ disk, ns, dir }) => {
      await disk.unmount();
      await ns.cleanup();
      removeDir(dir);
    });

    it('writes nothing to the cluster while no record can be appended, and /status and the metrics say why', async () => {
      const ns = await createNamespace('auditfull');
      const dir = tempDir('auditfull');
      // A 1 MB tmpfs: once full, every write fails with ENOSPC, for root too.
      const disk = await smallTmpfs(join(dir, 'disk'), '1m');
      const repo = git.createRepo('auditfull');
      const apps = appYaml('auditfull', git.url('auditfull'), ns.name, kc());
      const A = repo.commit(cms(0, 10, 'a'), 'A: ten configmaps');
      const ctx = scenario.set({ ns, dir, disk, A, B: '', beforeFull: 0 });
      const a = await startFaultAgent({ dir, apps, auditLog: join(disk.dir, 'audit.jsonl') });
      ctx.agent = a;
      await waitFor(async () => (await a.app()).lastAppliedCommit === A, 30_000, 'A applied');
      expect((await a.status()).audit.writable).toBe(true);
      ctx.beforeFull = headSeq(a.auditLog);

      disk.fill();
      ctx.B = repo.commit(cms(1, 5, 'b'), 'B: change four');
      await kubectlAt(kc(), [
        '-n',
        ns.name,
        'patch',
        'configmap',
        name(0),
        '--type=merge',
        '-p',
        '{"data":{"key":"oob"}}',
      ]);

      // The agent tries (the intent cannot be appended) and says so.
      const { value: stuck, elapsedMs } = await waitFor(
        async () => {
          const s = await a.status();
          return !s.audit.writable && s.apps[0]!.errors.includes('audit') ? s : undefined;
        },
        20_000,
        'the agent to report the audit log unwritable',
      );
      log(
        `B full: reported after ${Math.round(elapsedMs)} ms: audit.lastError=${JSON.stringify(stuck.audit.lastError)}; app ${brief(stuck.apps[0]!)}`,
      );
      expect(stuck.audit.lastError).toMatch(/ENOSPC/);
      expect(stuck.apps[0]!.state).toBe('error');
      expect(stuck.apps[0]!.lastError).toMatch(/audit log/);
      expect(await a.metric('tether_audit_writable')).toBe(0);
      expect(await a.metric('tether_app_errors', { app: 'auditfull', kind: 'audit' })).toBe(1);

      // One more full reconcile: still nothing written.
      const more = await waitFor(
        async () => (await a.app()).reconciles > stuck.apps[0]!.reconciles,
        25_000,
        'one more reconcile',
      );
      log(`B full: the next reconcile ended ${Math.round(more.elapsedMs)} ms later`);
      const live = await configMapValues(kc(), ns.name);
      expect(live.get(name(0)), 'the out-of-band edit is not reverted without a record').toBe('oob');
      expect(
        range(1, 5).map((n) => live.get(n)),
        'B is not applied without a record',
      ).toEqual(['a', 'a', 'a', 'a']);
      expect((await a.app()).lastAppliedCommit).toBe(A);
      expect((await a.status()).audit.writable).toBe(false);
      expect(headSeq(a.auditLog)).toBe(ctx.beforeFull);
    });

    // Regression: before a926709, file-lock's createExclusive left the empty `<log>.lock` behind when
    // writing the holder into it failed (ENOSPC), then an empty `.lock.break`: every later append
    // waited for them to go stale (2 s, then 10 s), so each reconcile took ~10 s while the disk
    // was full, and the first append after space came back waited up to 10 s.
    it('reconciles keep their 1 s interval while appends fail (no lock file left behind)', async () => {
      const { agent: a } = scenario.started();
      const before = (await a.app()).reconciles;
      await sleep(5000);
      const done = (await a.app()).reconciles - before;
      log(`B full: ${done} reconcile(s) in 5 s (interval 1 s)`);
      expect(done, 'reconciles in 5 s while the audit log cannot be appended').toBeGreaterThanOrEqual(3);
    });

    it('with space again it resumes: applies the new commit, heals the edit, records both; verify passes', async () => {
      const { agent: a, disk, ns, B, beforeFull } = scenario.started();
      const t = Date.now();
      disk.free();
      await waitFor(
        async () => (await a.app()).lastAppliedCommit === B,
        30_000,
        'B applied once space is back',
      );
      log(`B freed: B applied ${Date.now() - t} ms after the space came back`);
      const after = await configMapValues(kc(), ns.name);
      expect(after.get(name(0))).toBe('a');
      expect(range(1, 5).map((n) => after.get(n))).toEqual(['b', 'b', 'b', 'b']);
      const s = await a.status();
      expect(s.audit.writable).toBe(true);
      expect(s.audit.lastError).toBeNull();
      expect(await a.metric('tether_audit_writable')).toBe(1);
      expect(await a.metric('tether_app_errors', { app: 'auditfull', kind: 'audit' })).toBe(0);
      expect(s.apps[0]!.state).toBe('in-sync');
      const records = readRecords(a.auditLog);
      log(`B after: ${summarize(records, beforeFull)}`);
      await expectAudited(a.auditLog, kc(), B, { written: range(0, 5) });
      // The intent that opens the writes comes first, and names every object written.
      const intent = records.find((r) => r.seq > beforeFull && r.result === 'intent');
      expect(intent?.objects.map((o) => o.name).sort()).toEqual(range(0, 5));
    });
  },
);

// ------------------------------------------------------------------------------------ C and D
// On a private control plane: it is ours to break, and it is quiet. The agent watches
// Namespaces cluster-wide, so on the shared cluster other tests' namespaces come and go as
// watch events, which would make C's status check pass or fail by chance.
let fc: FaultCluster | undefined;
const cluster = () => {
  if (!fc) throw new Error('the fault cluster did not start');
  return fc;
};

describe('on a private control plane', () => {
  beforeAll(async () => {
    const t = Date.now();
    fc = await startFaultCluster();
    log(`private control plane at ${fc.server} in ${Date.now() - t} ms`);
  }, 300_000);
  afterAll(async () => {
    await fc?.down();
  });
  beforeEach(async () => {
    await cluster().heal();
  });

  // ------------------------------------------------------------------------------------------ C
  describe('C: Git down', () => {
    const scenario = scenarioState<{
      ns: string;
      dir: string;
      server: GitServer;
      agent?: FaultAgent;
      A: string;
      beforeDown: number;
    }>(async ({ server, dir }) => {
      await server.close();
      removeDir(dir);
    });
    const replicas = async (ns: string) =>
      Number(
        await kubectlAt(cluster().kubeconfig, [
          '-n',
          ns,
          'get',
          'deploy',
          'web',
          '-o',
          'jsonpath={.spec.replicas}',
        ]),
      );

    it('still heals drift of the commit in force and reports degraded (source)', async () => {
      const kc = cluster().kubeconfig;
      const ns = `gitdown-${Math.random().toString(16).slice(2, 8)}`;
      await kubectlAt(kc, ['create', 'namespace', ns]);
      const dir = tempDir('gitdown');
      const server = await GitServer.start();
      const repo = server.createRepo('gitdown');
      const apps = appYaml('gitdown', server.url('gitdown'), ns, kc);
      const A = repo.commit(
        { 'app/web.yaml': toYaml(deployment({ name: 'web', replicas: 2 })), ...cms(0, 3, 'a') },
        'A: web and three configmaps',
      );
      const ctx = scenario.set({ ns, dir, server, A, beforeDown: 0 });
      const a = await startFaultAgent({ dir, apps });
      ctx.agent = a;
      await appliedInSync(a, A, 30_000, 'A applied');
      ctx.beforeDown = headSeq(a.auditLog);

      await server.stop();
      await kubectlAt(kc, ['-n', ns, 'scale', 'deploy', 'web', '--replicas=5']);
      const healed = await waitFor(
        async () => (await replicas(ns)) === 2,
        10_000,
        'the scale reverted with Git down',
      );
      const { value: degraded } = await waitFor(
        async () => {
          const s = await a.app();
          return s.state === 'degraded' && s.errors.includes('source') ? s : undefined;
        },
        10_000,
        'state degraded with a source error',
      );
      log(`C git down: scale reverted in ${Math.round(healed.elapsedMs)} ms; app ${brief(degraded)}`);
      expect(degraded.lastError).toMatch(/source unreachable/);
      expect(degraded.lastAppliedCommit).toBe(A);
      expect(await a.metric('tether_app_errors', { app: 'gitdown', kind: 'source' })).toBe(1);
      // It stays so on later ticks (polls keep failing).
      await sleep(1500);
      expect((await a.app()).state).toBe('degraded');
      await expectAudited(a.auditLog, kc, A, { written: ['web', ...range(0, 3)] });
      expect(writtenFor(readRecords(a.auditLog), A).get('web')).toContain('healed');
      log(`C records while down: ${summarize(readRecords(a.auditLog), ctx.beforeDown)}`);
    });

    // Regression: before 7179068, a tick after the poll succeeded again took the
    // canSkipEvaluation path (same commit, plan and watch version as the settled reconcile)
    // and returned before the state was recomputed: `degraded` and the stale "source
    // unreachable" lastError stayed until a watch event or the 10-minute resync.
    it('back to in-sync once Git answers again', async () => {
      const { agent: a, server } = scenario.started();
      await server.listen();
      await waitFor(async () => (await a.app()).errors.length === 0, 10_000, 'a clean poll');
      expect(await a.metric('tether_app_errors', { app: 'gitdown', kind: 'source' })).toBe(0);
      await sleep(3000); // several clean ticks
      const s = await a.app();
      log(`C git back, 3 s of clean polls later: ${brief(s)}`);
      expect({ state: s.state, lastError: s.lastError }).toEqual({ state: 'in-sync', lastError: null });
    });
  });

  // ------------------------------------------------------------------------------------------ D
  describe('D: the control plane fails', () => {
    /** A namespace, a repository with `n` ConfigMaps, and the apps YAML for the fault cluster. */
    async function setup(id: string, n: number, kubeconfigFor?: (dir: string) => string) {
      const kc = cluster().kubeconfig;
      const ns = `${id}-${Math.random().toString(16).slice(2, 8)}`;
      await kubectlAt(kc, ['create', 'namespace', ns]);
      const repo = git.createRepo(`${id}-${ns}`);
      const sha = repo.commit(cms(0, n, 'v1'), `${n} configmaps`);
      const dir = tempDir(id);
      const agentKc = kubeconfigFor ? kubeconfigFor(dir) : kc;
      return { kc, ns, repo, sha, apps: appYaml(id, git.url(`${id}-${ns}`), ns, agentKc), dir };
    }

    /** Runs `body` with the agent `start` gives, then SIGKILLs it and removes `dir`, whatever happened. */
    async function withAgent(
      dir: string,
      start: () => Promise<FaultAgent>,
      body: (agent: FaultAgent) => Promise<void>,
    ): Promise<void> {
      let agent: FaultAgent | undefined;
      try {
        agent = await start();
        await body(agent);
      } finally {
        await agent?.stop('SIGKILL');
        removeDir(dir);
      }
    }

    /** setup(id, n) and an agent frozen after its write #10 (frozenMidApply), for `body`; see withAgent. */
    async function frozenAfterWrite10(
      id: string,
      n: number,
      body: (s: Awaited<ReturnType<typeof setup>> & { a: FaultAgent }) => Promise<void>,
    ): Promise<void> {
      const s = await setup(id, n);
      await withAgent(
        s.dir,
        () => frozenMidApply(s.apps, s.dir, 10),
        (a) => body({ ...s, a }),
      );
    }

    /** The commit applied after the restart and the agent in sync (convergedOn every object), within 60 s. */
    const convergedAfterRestart = (a: FaultAgent, sha: string, n: number) =>
      convergedOn(a, sha, 60_000, 'the commit applied after the restart', range(0, n));

    function frozen(pid: number | undefined): boolean {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T';
      } catch {
        return false;
      }
    }

    /**
     * Starts an agent that freezes itself (SIGSTOP) after its `at`-th object write, so that a
     * fault lands between two writes of one reconcile; resolves once it is frozen.
     */
    async function frozenMidApply(apps: string, dir: string, at: number): Promise<FaultAgent> {
      const agent = await startFaultAgent({
        dir,
        apps,
        env: { TETHER_FAILPOINTS: `after-apply-object=stop@${at}` },
        waitReady: false,
      });
      await waitFor(() => frozen(agent.proc.pid), 30_000, `the agent frozen after its write #${at}`);
      return agent;
    }

    it('kube-apiserver SIGKILLed mid-apply (agent frozen after write #10) and restarted: converges, verify passes', async () => {
      const fc = cluster();
      const N = 120;
      await frozenAfterWrite10('apikill', N, async ({ a, kc, ns, sha }) => {
        await fc.apiserver.kill();
        a.proc.kill('SIGCONT');
        const { value: down } = await waitFor(
          async () => {
            const s = await a.app();
            return s.errors.includes('cluster') ? s : undefined;
          },
          20_000,
          'the agent to report the cluster unreachable',
        );
        expect(down.state).toBe('error');
        const atDown = summarize(readRecords(a.auditLog));
        await sleep(1000);
        await fc.apiserver.restart();
        const { records, unrecorded } = await convergedAfterRestart(a, sha, N);
        log(
          `D1 apiserver killed after write #10: app ${brief(down)}; records then: ${atDown}; after: ${summarize(records)}; written but in no record: [${unrecorded.join(',')}]`,
        );
        const live = await configMapValues(kc, ns);
        expect(live.size).toBe(N);
        expect([...live.values()].every((v) => v === 'v1')).toBe(true);
        const v = await verify(a.auditLog, kc);
        expect(v.code, v.out).toBe(0);
        expect(danglingIntents(records)).toEqual([]);
        // Every object is in a record as written unless its response was lost in the kill: that
        // race (1 run in 6 here) is the bug the next scenario reproduces every time.
      });
    });

    describe('kube-apiserver SIGKILLed after committing writes whose responses never leave', () => {
      const ctx: { a?: FaultAgent; relay?: Awaited<ReturnType<typeof tcpRelay>>; dir?: string } = {};
      let outcome: { sha: string; kc: string; auditLog: string; N: number } | undefined;
      afterAll(async () => {
        await ctx.a?.stop('SIGKILL');
        await ctx.relay?.close();
        if (ctx.dir) removeDir(ctx.dir);
      });

      it('converges after the restart; verify passes; no intent is left open', async () => {
        const fc = cluster();
        const N = 120;
        // The agent reaches the API server through a relay that can hold the answers back.
        const relay = await tcpRelay(fc.apiserver.port);
        ctx.relay = relay;
        const { kc, ns, sha, apps, dir } = await setup('lostresp', N, (d) =>
          kubeconfigVia(fc.kubeconfig, relay.port, d),
        );
        ctx.dir = dir;
        const a = await frozenMidApply(apps, dir, 10);
        ctx.a = a;
        // From now on requests reach the server, answers do not reach the agent.
        relay.hold();
        a.proc.kill('SIGCONT');
        await sleep(1500); // the agent sends its next writes; the server commits them
        const reached = (await configMapValues(kc, ns)).size;
        // The server dies without answering; its connections close, the relay resets the agent's.
        await fc.apiserver.kill();
        relay.cut();
        relay.pass();
        await waitFor(
          async () => (await a.app()).errors.includes('cluster'),
          20_000,
          'the agent to report the cluster unreachable',
        );
        const atDown = summarize(readRecords(a.auditLog));
        await fc.apiserver.restart();
        const { records, unrecorded } = await convergedAfterRestart(a, sha, N);
        log(
          `D1' ${reached} objects in the cluster when the server died; records then: ${atDown}; after: ${summarize(records)}; written but in no record: [${unrecorded.join(',')}]`,
        );
        const live = await configMapValues(kc, ns);
        expect(live.size).toBe(N);
        const v = await verify(a.auditLog, kc);
        expect(v.code, v.out).toBe(0);
        expect(danglingIntents(records)).toEqual([]);
        outcome = { sha, kc, auditLog: a.auditLog, N };
      });

      // A write that reached the server but whose answer was lost (or came after the first
      // error stopped the run) is not in the partial record: the intent stays open, and the
      // next reconcile completes it with a recovered record from what the cluster shows.
      it('every object written for the commit is in a record as written', () => {
        if (!outcome) throw new Error('the previous step did not finish');
        const written = writtenFor(readRecords(outcome.auditLog), outcome.sha);
        const missing = range(0, outcome.N).filter((n) => !written.has(n));
        expect(missing, 'objects written for the commit that no record names as written').toEqual([]);
      });
    });

    describe('etcd SIGSTOPped for 10 s while the agent is idle and in sync', () => {
      let samples: AppStatus[] = [];
      let next = '';

      it('a new commit is applied once etcd continues; verify passes', async () => {
        const fc = cluster();
        const { kc, repo, sha, apps, dir } = await setup('etcdstop', 3);
        await withAgent(
          dir,
          () => startFaultAgent({ dir, apps }),
          async (a) => {
            await appliedInSync(a, sha, 30_000, 'applied');
            await sleep(2000);

            await fc.etcd.stop();
            try {
              // A new commit: its reconcile needs the API (dry-runs, then writes).
              next = repo.commit(cms(0, 1, 'v2'), 'change one');
              samples = await sampleStatus(a, 10_000);
            } finally {
              await fc.etcd.cont();
            }
            const distinct = [
              ...new Set(
                samples.map((s) => `${s.lastSeenCommit === next ? 'new' : 'old'} commit seen: ${brief(s)}`),
              ),
            ];
            log(`D2 etcd stopped 10 s: ${distinct.join(' | ')}`);
            expect(
              samples.some((s) => s.lastSeenCommit === next),
              'the agent saw the new commit while etcd was stopped',
            ).toBe(true);
            await fc.ready();
            const t = Date.now();
            await appliedInSync(
              a,
              next,
              60_000,
              'the new commit applied after SIGCONT',
              'in sync after SIGCONT',
            );
            log(
              `D2 after SIGCONT: applied in ${Date.now() - t} ms; ${brief(await a.app())}; records: ${summarize(readRecords(a.auditLog))}`,
            );
            await expectAudited(a.auditLog, kc, next, { written: range(0, 1) });
          },
        );
      });

      // A request to an API server whose etcd is frozen hangs until the client's timeout;
      // while it waits (over 5 s), /status says degraded and what it waits for.
      it('while etcd is frozen, the app is not reported in-sync without error once a reconcile needs the API', () => {
        const seen = samples.filter((s) => s.lastSeenCommit === next);
        expect(seen.length).toBeGreaterThan(0);
        expect(
          seen.some((s) => s.state !== 'in-sync' || s.errors.length > 0 || s.lastError !== null),
          `status while etcd was stopped: ${[...new Set(seen.map(brief))].join(' | ')}`,
        ).toBe(true);
      });
    });

    it('etcd SIGKILLed mid-apply (agent frozen after write #10) and restarted: converges, verify passes, every object recorded', async () => {
      const fc = cluster();
      const N = 120;
      await frozenAfterWrite10('etcdkill', N, async ({ a, kc, ns, sha }) => {
        await fc.etcd.kill();
        a.proc.kill('SIGCONT');
        const during = await sampleStatus(a, 3000, 500);
        const atDown = summarize(readRecords(a.auditLog));
        await fc.etcd.restart();
        await fc.ready();
        await appliedInSync(a, sha, 90_000, 'the commit applied after etcd is back');
        log(
          `D3 etcd killed after write #10: app ${[...new Set(during.map(brief))].join(' | ')}; records then: ${atDown || '(intent only)'}; after: ${summarize(readRecords(a.auditLog))}`,
        );
        const live = await configMapValues(kc, ns);
        expect(live.size).toBe(N);
        await expectAudited(a.auditLog, kc, sha, { written: range(0, N) });
      });
    });
  });
});
