/** Who holds a lock file, and when a holder counts as gone (src/util/file-lock.ts). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import {
  HEARTBEAT_MS,
  LOCAL_SILENT_MS,
  REMOTE_SILENT_MS,
  acquireLock,
  currentIdentity,
  formatHolder,
  isStale,
  parseHolder,
  type ProcessIdentity,
  type Sighting,
} from '../../../src/util/file-lock.ts';

const dir = mkdtempSync(join(tmpdir(), 'tether-file-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const self = (await currentIdentity())!;
const host = hostname();
const OTHER_BOOT = '00000000-1111-2222-3333-444444444444';

/** Field 22 of /proc/<pid>/stat. */
function startTime(pid: number): string {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ')[19]!;
}

function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid;
}

/** isStale for a lock file with `text`, written `ageMs` ago, as seen by this process. */
function stale(text: string, ageMs = 0, sighting: { current?: Sighting } = {}, now = Date.now()) {
  return isStale({ text, mtimeMs: now - ageMs, now, self, host, sighting });
}

const line = (pid: number, id: Partial<ProcessIdentity> = {}, h = host) =>
  formatHolder(pid, h, 'token', { ...self, ...id });

describe('the lock file line', () => {
  it('names pid, host, token, boot id, start time and pid namespace, and reads back', () => {
    expect(self.boot).toBe(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    expect(self.start).toBe(startTime(process.pid));
    const text = line(42);
    expect(text).toBe(`42 ${host} token boot=${self.boot} start=${self.start} pidns=${self.pidns}\n`);
    expect(parseHolder(text)).toEqual({ pid: 42, host, identity: self });
  });

  it('reads the old format without an identity, and garbage as nobody', () => {
    expect(parseHolder(`42 ${host} token\n`)).toEqual({ pid: 42, host });
    expect(parseHolder('')).toBeUndefined();
    expect(parseHolder('4')).toBeUndefined();
    expect(parseHolder('x y z')).toBeUndefined();
  });

  it('is what acquireLock writes, and its mtime is kept fresh while held', async () => {
    const path = join(dir, 'held.lock');
    const held = await acquireLock(path, { waitMs: 1_000, timeout: () => new Error('timeout') });
    const text = readFileSync(path, 'utf8');
    expect(parseHolder(text)).toEqual({ pid: process.pid, host, identity: self });
    expect(await stale(text)).toBe(false);
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    await sleep(HEARTBEAT_MS + 300);
    expect(Date.now() - statSync(path).mtimeMs).toBeLessThan(HEARTBEAT_MS + 500);
    await held.release();
    expect(() => statSync(path)).toThrow();
  });
});

describe('a lock written with an identity', () => {
  it('is live when this process holds it', async () => {
    expect(await stale(line(process.pid))).toBe(false);
  });

  it('is live when pid 1 holds it and pid 1 started when it says', async () => {
    expect(await stale(line(1, { start: startTime(1) }))).toBe(false);
  });

  it('is stale when it names pid 1 with another start time: a previous container, pid reused', async () => {
    const other = String(Number(startTime(1)) + 12345);
    expect(await stale(line(1, { start: other }))).toBe(true);
    expect(await stale(line(process.pid, { start: String(Number(self.start) + 1) }))).toBe(true);
  });

  it('is stale when it names pid 1 of another boot of this host', async () => {
    expect(await stale(line(1, { boot: OTHER_BOOT, start: startTime(1) }))).toBe(true);
  });

  it('is stale when its pid is gone', async () => {
    expect(await stale(line(deadPid()))).toBe(true);
  });

  it('from another pid namespace of this kernel: live while refreshed, stale once silent', async () => {
    const text = line(1, { pidns: '1', start: '1' }, 'another-pod');
    expect(await stale(text, 0)).toBe(false);
    expect(await stale(text, LOCAL_SILENT_MS - 1_000)).toBe(false);
    expect(await stale(text, LOCAL_SILENT_MS + 1_000)).toBe(true);
    // The same on this host name (a restarted container of this pod).
    expect(await stale(line(1, { pidns: '1' }), 0)).toBe(false);
    expect(await stale(line(1, { pidns: '1' }), LOCAL_SILENT_MS + 1_000)).toBe(true);
  });

  it('from another machine: stale once its mtime stood still for a while, as watched here', async () => {
    const text = line(1, { boot: OTHER_BOOT, pidns: '1' }, 'another-host');
    const sighting: { current?: Sighting } = {};
    const t0 = Date.now();
    const mtime = t0 - 3_600_000; // its clock may be far off ours: the age alone decides nothing
    const seen = (now: number, m = mtime) => isStale({ text, mtimeMs: m, now, self, host, sighting });
    expect(await seen(t0)).toBe(false);
    expect(await seen(t0 + REMOTE_SILENT_MS - 1_000)).toBe(false);
    expect(await seen(t0 + REMOTE_SILENT_MS - 500, mtime + 1_000)).toBe(false); // refreshed
    expect(await seen(t0 + 2 * REMOTE_SILENT_MS - 1_000, mtime + 1_000)).toBe(false);
    expect(await seen(t0 + 2 * REMOTE_SILENT_MS, mtime + 1_000)).toBe(true);
  });

  it('is stale after 10 minutes without a heartbeat, whoever holds it', async () => {
    expect(await stale(line(process.pid), 11 * 60_000)).toBe(true);
  });
});

describe('a lock in the old format', () => {
  it('is judged by its pid on this host, as before', async () => {
    expect(await stale(`1 ${host} token\n`)).toBe(false);
    expect(await stale(`${deadPid()} ${host} token\n`)).toBe(true);
    expect(await stale(`${deadPid()} another-host token\n`)).toBe(false);
    expect(await stale(`${deadPid()} another-host token\n`, 11 * 60_000)).toBe(true);
  });

  it('is stale when empty or torn and a little old', async () => {
    expect(await stale('', 100)).toBe(false);
    expect(await stale('', 3_000)).toBe(true);
    expect(await stale('12', 3_000)).toBe(true);
  });
});

describe('acquireLock', () => {
  it('takes over at once a lock left by "pid 1" of another process', async () => {
    const path = join(dir, 'pid1.lock');
    writeFileSync(path, line(1, { start: String(Number(startTime(1)) + 1) }));
    const t0 = performance.now();
    const held = await acquireLock(path, { waitMs: 2_000, timeout: () => new Error('timeout') });
    expect(performance.now() - t0).toBeLessThan(500);
    expect(parseHolder(readFileSync(path, 'utf8'))?.pid).toBe(process.pid);
    await held.release();
  });

  it('waits for a live holder and names its pid in the timeout', async () => {
    const path = join(dir, 'live.lock');
    writeFileSync(path, line(1, { start: startTime(1) }));
    const err = await acquireLock(path, {
      waitMs: 200,
      timeout: (pid) => new Error(`held by ${pid}`),
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('held by 1');
  });
});
