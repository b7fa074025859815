import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { NotificationConfig } from '../../../src/config/index.ts';
import { Notifications, type NotifyMetrics } from '../../../src/notify/dispatcher.ts';
import type { Outcome } from '../../../src/notify/outcome.ts';

const SHA = 'a'.repeat(40);
const at = (event: Outcome['event'], message: string = event): Outcome => ({
  app: 'shop',
  event,
  commit: SHA,
  result: event,
  health: null,
  message,
  time: '2026-01-02T03:04:05.000Z',
});

function setup(configs: NotificationConfig[], statuses: number[]) {
  const requests: { url: string; headers: Record<string, string>; body: string }[] = [];
  let i = 0;
  const fetch = ((url: string, init: RequestInit) => {
    requests.push({ url, headers: init.headers as Record<string, string>, body: init.body as string });
    return Promise.resolve(new Response('', { status: statuses[Math.min(i++, statuses.length - 1)] }));
  }) as unknown as typeof globalThis.fetch;
  const metrics: NotifyMetrics & { calls: string[] } = {
    calls: [],
    recordNotification(app, notifier, result) {
      this.calls.push(`${app} ${notifier} ${result}`);
    },
    setNotifierFailing(app, notifier, failing) {
      this.calls.push(`${app} ${notifier} failing=${failing}`);
    },
  };
  const n = new Notifications({
    app: 'shop',
    configs,
    metrics,
    log: pino({ level: 'silent' }),
    send: { backoffMs: [0], timeoutMs: 1_000, fetch },
  });
  return { n, requests, metrics };
}

describe('Notifications', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tether-notify-'));
  const tokenFile = join(dir, 'token');
  const github: NotificationConfig = {
    type: 'github',
    name: 'github',
    events: ['applied', 'healthy', 'failed'],
    apiUrl: 'http://127.0.0.1:1',
    repository: 'org/deploy',
    tokenFile,
  };

  it('sends in order per notifier, filters by events, posts pending once per commit and skips repeats', async () => {
    writeFileSync(tokenFile, 'tok-1\n');
    const { n, requests } = setup([github], [201]);
    n.notify(at('applying'));
    n.notify(at('applying'));
    n.notify(at('applied'));
    n.notify(at('drift'));
    n.notify(at('healthy'));
    n.notify(at('healthy'));
    await n.idle();
    writeFileSync(tokenFile, 'tok-2\n');
    n.notify(at('failed', 'sync failed'));
    await n.idle();
    expect(
      requests.map((r) => [(JSON.parse(r.body) as { state: string }).state, r.headers['authorization']]),
    ).toEqual([
      ['pending', 'Bearer tok-1'],
      ['success', 'Bearer tok-1'],
      ['failure', 'Bearer tok-2'],
    ]);
    expect(n.status()[0]).toMatchObject({
      sent: 3,
      failed: 0,
      lastEvent: 'failed',
      lastResult: 'sent',
      failingSince: null,
    });
  });

  it('a failing endpoint shows on status and in the metric, and recovers', async () => {
    writeFileSync(tokenFile, 'tok-secret');
    const { n, metrics } = setup([github], [500, 500, 201]);
    const started = Date.now();
    n.notify(at('applying'));
    expect(Date.now() - started).toBeLessThan(50);
    await n.idle();
    const failing = n.status()[0]!;
    expect(failing).toMatchObject({ lastResult: 'failed', failed: 1 });
    expect(failing.lastError).toBe(`GitHub http://127.0.0.1:1/repos/org/deploy/statuses/${SHA}: HTTP 500`);
    expect(failing.failingSince).not.toBeNull();
    expect(metrics.calls).toContain('shop github failing=true');
    n.notify(at('healthy'));
    await n.idle();
    expect(n.status()[0]).toMatchObject({ lastResult: 'sent', lastError: null, failingSince: null, sent: 1 });
    expect(metrics.calls.slice(-2)).toEqual(['shop github sent', 'shop github failing=false']);
  });

  it('an unreadable token file fails the notifier, not the caller, and names the file only', async () => {
    const { n } = setup([{ ...github, tokenFile: join(dir, 'missing') }], [201]);
    expect(() => n.notify(at('healthy'))).not.toThrow();
    await n.idle();
    expect(n.status()[0]?.lastError).toBe(`cannot read tokenFile ${join(dir, 'missing')} (ENOENT)`);
  });

  it('drops what does not fit the queue', async () => {
    writeFileSync(tokenFile, 'tok');
    const { n } = setup([{ ...github, events: ['failed'] }], [201]);
    for (let i = 0; i < 25; i++) n.notify(at('failed', `failure ${i}`));
    await n.idle();
    expect(n.status()[0]).toMatchObject({ sent: 20, dropped: 5 });
  });
});
