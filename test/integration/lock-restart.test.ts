/**
 * A crash never blocks the next start: an agent killed with SIGKILL while holding the audit
 * log's lock leaves the lock file behind, naming its pid. In a container the next agent is
 * pid 1 again, and so is whatever pid the lock names ("pid 1" of the previous container): the
 * lock file also records the holder's boot id and start time, so the new agent sees that this
 * pid 1 is another process and starts at once. A live holder is still waited for.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentIdentity, formatHolder, parseHolder } from '../../src/util/file-lock.ts';
import { startAgent, waitFor, type RunningAgent } from '../support/agent.ts';
import { createNamespace } from '../support/cluster.ts';
import { GitServer } from '../support/git-server.ts';
import { configMap, toYaml } from '../support/objects.ts';

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks after boot. */
function startTime(pid: number): string {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ')[19]!;
}

describe('the audit log lock of a crashed agent', () => {
  let git: GitServer;
  const agents: RunningAgent[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    git = await GitServer.start();
  });
  afterAll(async () => {
    for (const a of agents) await a.stop('SIGKILL');
    for (const c of cleanups) await c();
    await git.close();
  });

  it('does not block the next agent, even when it names a live pid 1; a live holder is waited for', async () => {
    const ns = await createNamespace('lock');
    cleanups.push(ns.cleanup);
    const repo = git.createRepo('lock');
    repo.commit({ 'app/cm.yaml': toYaml(configMap({ name: 'cm', data: { k: 'v' } })) }, 'one');
    const apps = `  - name: lock
    source: {repo: "${git.url('lock')}", ref: main, path: app, interval: 10m}
    destination: {namespace: ${ns.name}, kubeconfig: KUBECONFIG}
    sync: {mode: apply, prune: true}
`;
    /** Starts an agent on the shared log; resolves with it and how long it took to be ready. */
    const start = async (dir?: string, waitReady = true) => {
      const t0 = performance.now();
      const a = await startAgent({ apps, ...(dir && { dir }), waitReady });
      agents.push(a);
      return { a, ms: performance.now() - t0 };
    };
    const self = (await currentIdentity())!;

    // A control: how long an agent takes to be ready with no lock in its way.
    const { a: first, ms: control } = await start();
    const dir = first.dir;
    const lock = `${first.auditLog}.lock`;
    const pid = first.proc.pid!;
    const started = startTime(pid);
    await first.stop('SIGKILL');
    // What an agent killed while holding the lock leaves: its own line, as file-lock writes it.
    writeFileSync(lock, formatHolder(pid, hostname(), 'killed-holder', { ...self, start: started }));
    const { a: second, ms: afterKill } = await start(dir);
    expect(afterKill).toBeLessThan(control + 5_000);

    // A live holder (the second agent, by its pid and true start time) is still waited for.
    const secondPid = second.proc.pid!;
    writeFileSync(
      lock,
      formatHolder(secondPid, hostname(), 'live-holder', { ...self, start: startTime(secondPid) }),
    );
    const { a: third } = await start(dir, false);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(third.proc.exitCode).toBeNull();
    expect((await fetch(`${third.url}/readyz`).catch(() => undefined))?.status).not.toBe(200);
    expect(third.logs()).not.toMatch(/tether agent listening/);
    rmSync(lock); // the holder is done
    await waitFor(
      async () => (await fetch(`${third.url}/readyz`).catch(() => undefined))?.status === 200,
      30_000,
      'third agent ready',
    );

    // The container case: the holder was "pid 1" of the previous container, and pid 1 lives.
    const thirdPid = third.proc.pid!;
    const thirdLine = formatHolder(thirdPid, hostname(), 'killed-holder', {
      ...self,
      start: startTime(thirdPid),
    });
    for (const a of [second, third]) await a.stop('SIGKILL');
    const wrongStart = String(Number(startTime(1)) + 4242);
    writeFileSync(
      lock,
      thirdLine.replace(`${thirdPid} `, '1 ').replace(/ start=\d+ /, ` start=${wrongStart} `),
    );
    expect(parseHolder(readFileSync(lock, 'utf8'))).toMatchObject({
      pid: 1,
      identity: { start: wrongStart },
    });
    const { ms: containerCase } = await start(dir);
    console.log(JSON.stringify({ readyMs: { control, afterKill, containerCase } }));
    expect(containerCase).toBeLessThan(control + 5_000);
    expect(containerCase).toBeLessThan(10_000);
  });
});
