/**
 * The webhook endpoint under a flood of slow, unauthenticated connections (a real agent, on
 * loopback only): its memory stays near its normal footprint, /healthz and /metrics keep
 * answering, the agent closes every flood connection within its timeouts, and a correctly
 * signed push still triggers afterwards.
 */
import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, waitFor, type RunningAgent } from '../support/agent.ts';
import { createNamespace } from '../support/cluster.ts';
import { GitServer } from '../support/git-server.ts';
import { configMap, toYaml } from '../support/objects.ts';

const SECRET = 'flood-secret-value';
/** Connections in the flood, by kind (600 in all). */
const SLOW_BIG = 360; // well-formed but wrong signature, Content-Length 1 MiB, body dribbled
const SLOW_SMALL = 120; // the same with Content-Length 4 KiB, so the in-flight cap is what binds
const NO_SIGNATURE = 60; // no signature header: refused before a byte of body is read
const SLOW_HEADERS = 60; // headers dribbled a line at a time (slowloris)
const CHUNK = Buffer.alloc(16 * 1024, 'x');
const DRIBBLE_EVERY_MS = 200;
/** The agent's body and header timeouts are 10 s (headers checked every second); some slack. */
const CLOSE_WITHIN_MS = 14_000;
/** The flood never runs longer than this, whatever happens. */
const FLOOD_MAX_MS = 20_000;
const RSS_MARGIN_KB = 32 * 1024;

function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

interface FloodConn {
  kind: string;
  socket: Socket;
  openedAt: number;
  closedAt?: number;
  /** The status line the agent answered with, if any. */
  status?: string;
  /** Bytes (of body or header lines) still to send. */
  left: number;
}

describe('the webhook endpoint under a flood', () => {
  let git: GitServer;
  let agent: RunningAgent | undefined;
  let cleanupNs: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    git = await GitServer.start();
  });
  afterAll(async () => {
    await agent?.stop('SIGKILL');
    await cleanupNs?.();
    await git.close();
  });

  it('keeps memory bounded and /healthz answering, closes every flood connection, and still takes a signed push', async () => {
    const ns = await createNamespace('flood');
    cleanupNs = ns.cleanup;
    const repo = git.createRepo('flood');
    const first = repo.commit({ 'app/cm.yaml': toYaml(configMap({ name: 'cm', data: { k: 'v1' } })) }, 'one');
    const secretFile = join(git.root, 'flood-secret');
    writeFileSync(secretFile, `${SECRET}\n`);
    agent = await startAgent({
      apps: `  - name: flood
    source: {repo: "${git.url('flood')}", ref: main, path: app, interval: 10m}
    destination: {namespace: ${ns.name}, kubeconfig: KUBECONFIG}
    sync: {mode: apply, prune: true}
`,
      extra: `webhooks:\n  - {name: github, type: github, secretFile: ${secretFile}}\n`,
    });
    const a = agent;
    const pid = a.proc.pid!;
    await waitFor(async () => (await a.status()).apps[0]!.lastAppliedCommit === first, 30_000, 'first apply');
    // A few webhook requests and health checks first, so the baseline is the agent's footprint
    // in normal work, not that of an agent that never answered one.
    for (let i = 0; i < 5; i++) {
      await fetch(`${a.url}/healthz`);
      await fetch(`${a.url}/metrics`).then((r) => r.text());
      await fetch(`${a.url}/webhook/github`, { method: 'POST', body: '{}' }).then((r) => r.text());
    }
    await sleep(1_000);
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      samples.push(rssKb(pid));
      await sleep(200);
    }
    const baseline = Math.max(...samples);

    // The flood.
    const conns: FloodConn[] = [];
    const open = (kind: string, head: string, left: number) => {
      const socket = connect(a.port, '127.0.0.1');
      const conn: FloodConn = { kind, socket, openedAt: performance.now(), left };
      socket.setNoDelay(true);
      socket.on('error', () => undefined);
      socket.once('data', (d: Buffer) => (conn.status = d.toString('latin1').split('\r\n')[0]));
      socket.on('close', () => (conn.closedAt ??= performance.now()));
      socket.write(head);
      conns.push(conn);
    };
    const post = (length: number, signature: boolean) =>
      `POST /webhook/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
      `X-GitHub-Event: push\r\nContent-Length: ${length}\r\n` +
      (signature ? `X-Hub-Signature-256: sha256=${'0'.repeat(64)}\r\n` : '') +
      '\r\n';
    const floodStart = performance.now();
    // Interleaved, so that both the in-flight cap and the byte cap come into play.
    const kinds: [string, number, () => void][] = [
      ['slow-big', SLOW_BIG, () => open('slow-big', post(1 << 20, true), 1 << 20)],
      ['slow-small', SLOW_SMALL, () => open('slow-small', post(4096, true), 4096)],
      ['no-signature', NO_SIGNATURE, () => open('no-signature', post(1 << 20, false), 1 << 20)],
      ['slow-headers', SLOW_HEADERS, () => open('slow-headers', 'POST /webhook/github HTTP/1.1\r\n', 1_000)],
    ];
    const total = kinds.reduce((n, [, count]) => n + count, 0);
    for (let i = 0; i < total; i++) {
      for (const [kind, count, start] of kinds) {
        // Spread each kind evenly over the total.
        if (Math.floor(((i + 1) * count) / total) > conns.filter((c) => c.kind === kind).length) start();
      }
    }
    expect(conns).toHaveLength(total);

    const dribble = setInterval(() => {
      for (const c of conns) {
        if (c.closedAt !== undefined || c.left <= 0 || c.socket.destroyed) continue;
        if (c.kind === 'slow-headers') {
          c.socket.write(`X-Pad-${c.left}: y\r\n`);
          c.left--;
        } else {
          // Never the whole body: a slow sender keeps something back.
          const n = Math.min(CHUNK.length, c.left - 1);
          if (n > 0) c.socket.write(CHUNK.subarray(0, n));
          c.left -= Math.max(n, 1);
        }
      }
    }, DRIBBLE_EVERY_MS);

    let peak = baseline;
    const health: number[] = [];
    const healthFailures: string[] = [];
    let metricsOk = 0;
    try {
      while (performance.now() - floodStart < FLOOD_MAX_MS) {
        peak = Math.max(peak, rssKb(pid));
        const t0 = performance.now();
        try {
          const r = await fetch(`${a.url}/healthz`, { signal: AbortSignal.timeout(1_000) });
          await r.text();
          if (r.status !== 200) healthFailures.push(`status ${r.status}`);
          health.push(performance.now() - t0);
        } catch (err) {
          healthFailures.push((err as Error).message);
        }
        if (health.length % 8 === 0) {
          const m = await fetch(`${a.url}/metrics`, { signal: AbortSignal.timeout(1_000) }).catch(
            () => undefined,
          );
          if (m?.status === 200 && (await m.text()).includes('tether_reconcile_total')) metricsOk++;
        }
        if (conns.every((c) => c.closedAt !== undefined)) break;
        await sleep(250);
      }
    } finally {
      clearInterval(dribble);
      for (const c of conns) c.socket.destroy();
    }
    peak = Math.max(peak, rssKb(pid));
    await sleep(1_000);
    const after = rssKb(pid);

    const stillOpen = conns.filter(
      (c) => c.closedAt === undefined || c.closedAt - c.openedAt > CLOSE_WITHIN_MS,
    );
    const byStatus = new Map<string, number>();
    for (const c of conns) {
      const key = `${c.kind}: ${c.status ?? '(closed without an answer)'}`;
      byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
    }
    const closeMs = conns.map((c) => (c.closedAt ?? Infinity) - c.openedAt);
    const sorted = [...health].sort((x, y) => x - y);
    console.log(
      JSON.stringify(
        {
          rssKb: { baseline, peak, after, growth: peak - baseline },
          healthzMs: {
            count: health.length,
            median: sorted[Math.floor(sorted.length / 2)],
            max: sorted.at(-1),
          },
          metricsAnswers: metricsOk,
          lastCloseMs: Math.max(...closeMs),
          answers: Object.fromEntries(byStatus),
        },
        null,
        2,
      ),
    );

    expect(healthFailures).toEqual([]);
    expect(health.length).toBeGreaterThan(10);
    expect(Math.max(...health)).toBeLessThan(1_000);
    expect(metricsOk).toBeGreaterThan(0);
    expect(peak - baseline).toBeLessThan(RSS_MARGIN_KB);
    expect(stillOpen.map((c) => c.kind)).toEqual([]);
    // Refused unread, or timed out: nobody's body was taken in whole.
    for (const c of conns) {
      if (c.kind === 'no-signature') expect(c.status).toMatch(/^HTTP\/1.1 401 /);
      else if (c.kind === 'slow-headers') expect(c.status ?? 'HTTP/1.1 408').toMatch(/^HTTP\/1.1 408/);
      else expect(c.status).toMatch(/^HTTP\/1.1 (503|408) /);
    }
    expect(conns.filter((c) => c.status?.startsWith('HTTP/1.1 408')).length).toBeGreaterThan(0);

    // A signed push afterwards is taken at once.
    const second = repo.commit(
      { 'app/cm.yaml': toYaml(configMap({ name: 'cm', data: { k: 'v2' } })) },
      'two',
    );
    const body = JSON.stringify({ ref: 'refs/heads/main', repository: { clone_url: git.url('flood') } });
    const reply = await fetch(`${a.url}/webhook/github`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-GitHub-Event': 'push',
        'X-Hub-Signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
      },
      body,
    });
    expect(reply.status).toBe(202);
    expect(await reply.json()).toEqual({ triggered: ['flood'] });
    await waitFor(
      async () => (await a.status()).apps[0]!.lastAppliedCommit === second,
      10_000,
      'webhook-triggered apply after the flood',
    );
  });
});
