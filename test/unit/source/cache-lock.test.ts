/** The git cache's lock (src/source/lock.ts over src/util/file-lock.ts). */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CacheLockedError } from '../../../src/source/errors.ts';
import { withCacheLock } from '../../../src/source/lock.ts';
import { currentIdentity, formatHolder } from '../../../src/util/file-lock.ts';

const dir = mkdtempSync(join(tmpdir(), 'tether-cache-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the git cache lock', () => {
  it('runs callers of one process one after the other, and removes the lock file after', async () => {
    const lock = join(dir, 'a', 'cache.lock'); // its directory does not exist yet
    const order: string[] = [];
    const job = (name: string) =>
      withCacheLock(lock, async () => {
        order.push(`${name} in`);
        expect(existsSync(lock)).toBe(true);
        await new Promise((r) => setTimeout(r, 20));
        order.push(`${name} out`);
      });
    await Promise.all([job('one'), job('two')]);
    expect(order).toEqual(['one in', 'one out', 'two in', 'two out']);
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a lock left by a process that died', async () => {
    const lock = join(dir, 'dead.lock');
    const { pid } = spawnSync(process.execPath, ['-e', '']);
    writeFileSync(lock, `${pid} ${hostname()} token\n`);
    expect(await withCacheLock(lock, () => Promise.resolve('ran'), 2_000)).toBe('ran');
  });

  it('takes over a lock naming pid 1 with another start time (left by a crashed container)', async () => {
    const lock = join(dir, 'pid1.lock');
    const stat = readFileSync('/proc/1/stat', 'utf8');
    const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const self = (await currentIdentity())!;
    writeFileSync(lock, formatHolder(1, hostname(), 'token', { ...self, start: String(start + 1) }));
    const t0 = performance.now();
    expect(await withCacheLock(lock, () => Promise.resolve('ran'), 5_000)).toBe('ran');
    expect(performance.now() - t0).toBeLessThan(1_000);
  });

  it('gives up on a live holder with CacheLockedError naming the lock file', async () => {
    const lock = join(dir, 'live.lock');
    writeFileSync(lock, `${process.pid} ${hostname()} token\n`);
    const err = await withCacheLock(lock, () => Promise.resolve('ran'), 300).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CacheLockedError);
    expect((err as CacheLockedError).message).toBe(
      `git cache ${lock} has been locked by another process for over 0.3 s`,
    );
    expect((err as CacheLockedError).hint).toContain(`delete ${lock}`);
  });
});
