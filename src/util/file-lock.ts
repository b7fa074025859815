/**
 * An exclusive lock between processes (the audit log's "read the tail, append", a git cache's
 * fetch and swap): a lock file created with O_EXCL that names its holder.
 *
 * A pid alone does not name a process: in a container the agent is always pid 1, so the lock
 * left by a crashed pid-1 agent would look alive to the next one, which is pid 1 too. The lock
 * file therefore holds one line
 *
 *     <pid> <host> <token> boot=<boot id> start=<start time> pidns=<pid namespace>
 *
 * with the kernel's boot id (/proc/sys/kernel/random/boot_id), the process start time (field 22
 * of /proc/<pid>/stat, in clock ticks since boot) and the pid namespace (/proc/self/ns/pid).
 * The first three fields are the old format's, which older readers still understand. A holder
 * keeps the file's mtime fresh (every HEARTBEAT_MS) while it holds the lock, so a lock whose
 * process cannot be seen from here can still be judged by whether anyone keeps it alive.
 *
 * A lock is stale (taken over) when:
 * - same boot and pid namespace as this process: its pid is gone, a zombie, or now another
 *   process (a different start time). Exact, and at once.
 * - same host, another boot: the machine rebooted (or this pod moved to another node).
 * - same boot, another pid namespace (a restarted container, another pod on this node): its
 *   mtime was not refreshed for LOCAL_SILENT_MS. Same kernel, so the same clock.
 * - another machine: its mtime did not change for REMOTE_SILENT_MS while this process watched
 *   (clocks of two machines may disagree, so the age is measured here, never computed).
 * - on this machine: its mtime is older than STALE_MS (a holder refreshes it every second).
 * - it is empty or unreadable and older than EMPTY_STALE_MS (a holder killed between creating
 *   and writing it).
 * An old-format lock ("pid host token") is judged as before: a dead pid on the same host, or
 * STALE_MS.
 *
 * Taking over is itself serialized by `<lock>.break` (also O_EXCL): between reading a stale
 * lock and deleting it nobody else may delete it, or one process could delete the fresh lock
 * another has just created in its place.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readlink, stat, unlink, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const STALE_MS = 10 * 60_000;
/** A lock file still empty after this long was left by a process killed between create and write. */
const EMPTY_STALE_MS = 2_000;
/** The break lock is held for microseconds; older means its holder died. */
const BREAK_STALE_MS = 10_000;
/** How often a holder refreshes its lock file's mtime. */
export const HEARTBEAT_MS = 1_000;
/** A holder on this kernel that we cannot see: stale after this long without a heartbeat. */
export const LOCAL_SILENT_MS = 5_000;
/** A holder on another machine: stale once its mtime has not moved for this long (watched here). */
export const REMOTE_SILENT_MS = 15_000;
/**
 * After releasing, this process leaves the lock alone this long: a process polling for it
 * would otherwise lose every race against a burst of appends here, and could time out.
 */
const HANDOFF_MS = 3;
const lastRelease = new Map<string, number>();

/** What names a process beyond its pid. */
export interface ProcessIdentity {
  boot: string;
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot. */
  start: string;
  /** `pid:[4026531836]` from /proc/self/ns/pid, without the prefix. */
  pidns: string;
}

/** The parsed content of a lock file. */
export interface LockHolder {
  pid: number;
  host: string;
  /** Absent in the old format. */
  identity?: ProcessIdentity;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errno(err) === 'EPERM';
  }
}

/**
 * Start time and state of a process, from /proc/<pid>/stat: undefined when there is no such
 * process (or no /proc). The command name (field 2) may hold spaces and parentheses, so fields
 * are counted after its last `)`.
 */
async function procStat(pid: number): Promise<{ state: string; start: string } | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
  const state = rest[0];
  const start = rest[19];
  if (state === undefined || start === undefined || !/^\d+$/.test(start)) return undefined;
  return { state, start };
}

let selfIdentity: Promise<ProcessIdentity | undefined> | undefined;

/** This process's identity, or undefined without a Linux /proc (then locks use the old format). */
export function currentIdentity(): Promise<ProcessIdentity | undefined> {
  selfIdentity ??= (async () => {
    try {
      const [boot, own, ns] = await Promise.all([
        readFile('/proc/sys/kernel/random/boot_id', 'utf8'),
        procStat(process.pid),
        readlink('/proc/self/ns/pid'),
      ]);
      const pidns = /^pid:\[(\d+)\]$/.exec(ns)?.[1];
      const id = boot.trim();
      if (own === undefined || pidns === undefined || !/^[0-9a-f-]+$/i.test(id)) return undefined;
      return { boot: id, start: own.start, pidns };
    } catch {
      return undefined;
    }
  })();
  return selfIdentity;
}

/** The lock file's line for this process. */
export function formatHolder(pid: number, host: string, token: string, identity?: ProcessIdentity): string {
  const fields = identity ? ` boot=${identity.boot} start=${identity.start} pidns=${identity.pidns}` : '';
  return `${pid} ${host} ${token}${fields}\n`;
}

/** Reads a lock file's line; undefined when it does not name a holder (empty, torn, garbage). */
export function parseHolder(text: string): LockHolder | undefined {
  const [pid, host, , ...rest] = text.trim().split(' ');
  if (pid === undefined || !/^\d+$/.test(pid) || host === undefined || host === '') return undefined;
  const holder: LockHolder = { pid: Number(pid), host };
  const kv = new Map(rest.map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]));
  const boot = kv.get('boot');
  const start = kv.get('start');
  const pidns = kv.get('pidns');
  if (boot && start && pidns) holder.identity = { boot, start, pidns };
  return holder;
}

/**
 * What a waiter saw of a lock whose holder it cannot see: the content and mtime, and since when
 * (this process's clock). Cleared when the lock changes hands.
 */
export interface Sighting {
  key: string;
  since: number;
}

export interface StaleCheck {
  /** The lock file's content. */
  text: string;
  /** Its mtime. */
  mtimeMs: number;
  now: number;
  /** This process's identity and host (parameters so tests can pose as another process). */
  self: ProcessIdentity | undefined;
  host: string;
  /** The previous sighting of this lock, updated in place. */
  sighting: { current?: Sighting };
}

/** Whether a lock is stale (see the top of this file). */
export async function isStale(c: StaleCheck): Promise<boolean> {
  const age = c.now - c.mtimeMs;
  const holder = parseHolder(c.text);
  if (holder === undefined) return age > EMPTY_STALE_MS;
  const id = holder.identity;
  const self = c.self;
  if (id === undefined || self === undefined) {
    // The old format, or no /proc here: the pid on this host.
    return age > STALE_MS || (holder.host === c.host && !alive(holder.pid));
  }
  // This kernel's clock: the age means what it says.
  if (id.boot === self.boot && age > STALE_MS) return true;
  if (id.boot === self.boot && id.pidns === self.pidns) {
    const now = await procStat(holder.pid);
    if (now === undefined) return !alive(holder.pid); // gone (or hidden from us: then it lives)
    return now.state === 'Z' || now.state === 'X' || now.start !== id.start;
  }
  if (id.boot !== self.boot && holder.host === c.host) return true;
  if (id.boot === self.boot) return age > LOCAL_SILENT_MS;
  // Another machine: does anyone keep refreshing it?
  const key = `${c.mtimeMs} ${c.text}`;
  if (c.sighting.current?.key !== key) {
    c.sighting.current = { key, since: c.now };
    return false;
  }
  return c.now - c.sighting.current.since > REMOTE_SILENT_MS;
}

async function createExclusive(path: string, content: string): Promise<FileHandle | undefined> {
  let fh;
  try {
    fh = await open(path, 'wx', 0o600);
  } catch (err) {
    if (errno(err) === 'EEXIST') return undefined;
    throw err;
  }
  try {
    await fh.writeFile(content);
  } catch (err) {
    await fh.close();
    await unlink(path).catch(() => undefined);
    throw err;
  }
  return fh;
}

/** The lock's content if it is stale, undefined if it is live or gone. */
async function staleContent(path: string, sighting: { current?: Sighting }): Promise<string | undefined> {
  let text: string;
  let mtimeMs: number;
  try {
    [text, mtimeMs] = await Promise.all([readFile(path, 'utf8'), stat(path).then((s) => s.mtimeMs)]);
  } catch {
    return undefined; // released meanwhile: just try again
  }
  const self = await currentIdentity();
  return (await isStale({ text, mtimeMs, now: Date.now(), self, host: hostname(), sighting }))
    ? text
    : undefined;
}

/** Removes the lock at `path` if it still holds `content`, under the break lock. */
async function breakStale(path: string, content: string): Promise<void> {
  const breaker = `${path}.break`;
  const fh = await createExclusive(breaker, `${process.pid} ${hostname()}\n`);
  if (fh === undefined) {
    const age = await stat(breaker).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > BREAK_STALE_MS) await unlink(breaker).catch(() => undefined);
    return;
  }
  try {
    await fh.close();
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

/** Refreshes the lock file's mtime through its descriptor while held (see the top of this file). */
function heartbeat(fh: FileHandle): () => Promise<void> {
  let pending: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    const now = new Date();
    pending = fh.utimes(now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await pending;
    await fh.close().catch(() => undefined);
  };
}

/**
 * Takes the lock at `path`, waiting up to `waitMs` for a live holder; throws `timeout(...)`
 * then. Other errors (e.g. EACCES on a read-only directory) pass through for the caller.
 */
export async function acquireLock(path: string, opts: LockOptions): Promise<HeldLock> {
  const content = formatHolder(
    process.pid,
    hostname(),
    randomBytes(8).toString('hex'),
    await currentIdentity(),
  );
  const deadline = Date.now() + opts.waitMs;
  const maxPoll = opts.maxPollMs ?? 5;
  const sighting: { current?: Sighting } = {};
  await mkdir(dirname(path), { recursive: true });
  const since = performance.now() - (lastRelease.get(path) ?? -Infinity);
  if (since < HANDOFF_MS) await sleep(HANDOFF_MS - since);
  for (let attempt = 0; ; attempt++) {
    const fh = await createExclusive(path, content);
    if (fh !== undefined) {
      const stop = heartbeat(fh);
      return {
        async release() {
          await stop();
          // Only our own lock: if it was taken over as stale, the file now belongs to another.
          const now = await readFile(path, 'utf8').catch(() => undefined);
          if (now === content) await unlink(path).catch(() => undefined);
          lastRelease.set(path, performance.now());
        },
      };
    }
    const stale = await staleContent(path, sighting);
    if (stale !== undefined) {
      await breakStale(path, stale);
      continue;
    }
    if (Date.now() > deadline) {
      const holder = await readFile(path, 'utf8').catch(() => '');
      throw opts.timeout(parseHolder(holder)?.pid.toString());
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
