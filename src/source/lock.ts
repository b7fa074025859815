// A lock file per cache directory, so two processes (or two pollers of one process) never
// fetch into, rebuild or swap the same cache at once. Creation with O_EXCL is atomic; a lock
// left by a dead process (same host) or older than STALE_MS is taken over.
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { CacheLockedError } from './errors.ts';

const STALE_MS = 10 * 60_000;
const DEFAULT_WAIT_MS = 120_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isStale(path: string): Promise<boolean> {
  try {
    const [text, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    if (Date.now() - st.mtimeMs > STALE_MS) return true;
    const [pid, host] = text.split(' ');
    return host === hostname() && pid !== undefined && /^\d+$/.test(pid) && !alive(Number(pid));
  } catch {
    return false; // vanished or half-written: look again
  }
}

// Waiters inside this process queue on a promise instead of spinning on the file.
const local = new Map<string, Promise<void>>();

export async function withLock<T>(path: string, fn: () => Promise<T>, waitMs = DEFAULT_WAIT_MS): Promise<T> {
  const prev = local.get(path) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((r) => (done = r));
  const chain = prev.then(() => mine);
  local.set(path, chain);
  try {
    await prev;
    await acquire(path, waitMs);
    try {
      return await fn();
    } finally {
      await unlink(path).catch(() => undefined);
    }
  } finally {
    done();
    if (local.get(path) === chain) local.delete(path);
  }
}

async function acquire(path: string, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  await mkdir(dirname(path), { recursive: true });
  for (;;) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(`${process.pid} ${hostname()} ${new Date().toISOString()}\n`);
      await fh.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isStale(path)) {
      // Rename first: only one of several processes taking over a stale lock wins.
      await rename(path, `${path}.stale-${process.pid}`)
        .then(() => unlink(`${path}.stale-${process.pid}`))
        .catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) {
      throw new CacheLockedError(
        `git cache ${path} has been locked by another process for over ${waitMs / 1000} s`,
        {
          hint: `if no other tether process is running, delete ${path}`,
        },
      );
    }
    await sleep(25 + Math.random() * 50);
  }
}
