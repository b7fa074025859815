/**
 * An exclusive lock between processes (the audit log's "read the tail, append", a git cache's
 * fetch and swap): a lock file created with O_EXCL and holding "pid host token". A lock whose
 * holder is dead (same host) is taken over; so is one older than STALE_MS (no holder keeps it
 * that long; covers other hosts and pid reuse).
 *
 * Taking over is itself serialized by `<lock>.break` (also O_EXCL): between reading a stale
 * lock and deleting it nobody else may delete it, or one process could delete the fresh lock
 * another has just created in its place.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const STALE_MS = 10 * 60_000;
/** A lock file still empty after this long was left by a process killed between create and write. */
const EMPTY_STALE_MS = 2_000;
/** The break lock is held for microseconds; older means its holder died. */
const BREAK_STALE_MS = 10_000;
/**
 * After releasing, this process leaves the lock alone this long: a process polling for it
 * would otherwise lose every race against a burst of appends here, and could time out.
 */
const HANDOFF_MS = 3;
const lastRelease = new Map<string, number>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

async function createExclusive(path: string, content: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'wx', 0o600);
  } catch (err) {
    if (errno(err) === 'EEXIST') return false;
    throw err;
  }
  try {
    await fh.writeFile(content);
  } finally {
    await fh.close();
  }
  return true;
}

/** The lock's content if it is stale, undefined if it is live or gone. */
async function staleContent(path: string): Promise<string | undefined> {
  let text: string;
  let age: number;
  try {
    [text, age] = await Promise.all([readFile(path, 'utf8'), stat(path).then((s) => Date.now() - s.mtimeMs)]);
  } catch {
    return undefined; // released meanwhile: just try again
  }
  if (age > STALE_MS) return text;
  const [pid, host] = text.trim().split(' ');
  if (pid === undefined || !/^\d+$/.test(pid) || host === undefined)
    return age > EMPTY_STALE_MS ? text : undefined;
  return host === hostname() && !alive(Number(pid)) ? text : undefined;
}

/** Removes the lock at `path` if it still holds `content`, under the break lock. */
async function breakStale(path: string, content: string): Promise<void> {
  const breaker = `${path}.break`;
  if (!(await createExclusive(breaker, `${process.pid} ${hostname()}\n`))) {
    const age = await stat(breaker).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > BREAK_STALE_MS) await unlink(breaker).catch(() => undefined);
    return;
  }
  try {
    const now = await readFile(path, 'utf8').catch(() => undefined);
    if (now === content) await unlink(path).catch(() => undefined);
  } finally {
    await unlink(breaker).catch(() => undefined);
  }
}

export interface HeldLock {
  release(): Promise<void>;
}

export interface LockOptions {
  /** How long to wait for a live holder before giving up. */
  waitMs: number;
  /** The longest pause between two attempts (short for appends, longer for fetches). */
  maxPollMs?: number;
  /** The error to throw after waitMs; `pid` is the holder's, when the lock names one. */
  timeout: (pid: string | undefined) => Error;
}

/**
 * Takes the lock at `path`, waiting up to `waitMs` for a live holder; throws `timeout(...)`
 * then. Other errors (e.g. EACCES on a read-only directory) pass through for the caller.
 */
export async function acquireLock(path: string, opts: LockOptions): Promise<HeldLock> {
  const content = `${process.pid} ${hostname()} ${randomBytes(8).toString('hex')}\n`;
  const deadline = Date.now() + opts.waitMs;
  const maxPoll = opts.maxPollMs ?? 5;
  await mkdir(dirname(path), { recursive: true });
  const since = performance.now() - (lastRelease.get(path) ?? -Infinity);
  if (since < HANDOFF_MS) await sleep(HANDOFF_MS - since);
  for (let attempt = 0; ; attempt++) {
    if (await createExclusive(path, content)) {
      return {
        async release() {
          // Only our own lock: if it was taken over as stale, the file now belongs to another.
          const now = await readFile(path, 'utf8').catch(() => undefined);
          if (now === content) await unlink(path).catch(() => undefined);
          lastRelease.set(path, performance.now());
        },
      };
    }
    const stale = await staleContent(path);
    if (stale !== undefined) {
      await breakStale(path, stale);
      continue;
    }
    if (Date.now() > deadline) {
      const holder = await readFile(path, 'utf8').catch(() => '');
      const pid = holder.split(' ')[0] ?? '';
      throw opts.timeout(/^\d+$/.test(pid) ? pid : undefined);
    }
    // Short, jittered waits that grow to maxPoll: a holder often keeps the lock briefly.
    await sleep(Math.min(1 + attempt, maxPoll) * (0.5 + Math.random()));
  }
}

// Waiters inside one process queue on a promise instead of polling the file against each other.
const local = new Map<string, Promise<void>>();

/** Runs `fn` holding the lock at `path`; callers in this process take turns in order. */
export async function withLock<T>(path: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const prev = local.get(path) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((r) => (done = r));
  const chain = prev.then(() => mine);
  local.set(path, chain);
  try {
    await prev;
    const held = await acquireLock(path, opts);
    try {
      return await fn();
    } finally {
      await held.release();
    }
  } finally {
    done();
    if (local.get(path) === chain) local.delete(path);
  }
}
