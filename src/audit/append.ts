/**
 * Appending to the log. Every append, under the inter-process lock: re-read the tail (another
 * process may have appended), refuse to build on a damaged end, cut off a torn last line and say
 * so in the new record, write the line with one write and fsync it before reporting it done.
 */
import { constants } from 'node:fs';
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { hashRecord, type ChainHead } from './chain.ts';
import { AuditChainError, AuditClosedError, AuditError, AuditInputError, AuditIoError } from './errors.ts';
import { prepareInput } from './input.ts';
import { DEFAULT_LOCK_WAIT_MS, acquireAuditLock, type HeldLock } from './lock.ts';
import {
  AUDIT_GENESIS,
  MAX_LINE_BYTES,
  recordLine,
  type AuditInput,
  type AuditRecord,
  type RepairedTornLine,
} from './record.ts';
import { readTail, type Tail } from './tail.ts';
import { TORN_REASON, verifyAuditLog } from './verify.ts';

export interface AuditLogOptions {
  /**
   * Verify the whole chain (streaming) before accepting appends. Off by default: open reads only
   * the end of the file, so damage further back than the last two lines is found by
   * `verifyAuditLog`, not here.
   */
  verifyChain?: boolean;
  /** How long an append waits for another process holding the lock (default 30 s). */
  lockWaitMs?: number;
}

async function syncDir(dir: string): Promise<void> {
  // Makes a new file's directory entry durable; some platforms cannot open directories.
  const fh = await open(dir, constants.O_RDONLY).catch(() => undefined);
  if (fh === undefined) return;
  try {
    await fh.sync();
  } catch {
    // not supported here: the file itself is still synced on every append
  } finally {
    await fh.close();
  }
}

function chainError(path: string, what: string): AuditChainError {
  return new AuditChainError(`audit log ${path} is damaged: ${what}; refusing to append to it`, {
    hint: `run \`tether audit verify --audit-log ${path}\` to see where, and keep the file as it is for investigation (move it aside to start a new log)`,
  });
}

function ioError(path: string, doing: string, err: unknown): AuditIoError {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new AuditIoError(`cannot ${doing} audit log ${path}: ${code}`, {
    hint: 'check free space and permissions of the file and its directory; the reconcile is not reported done until its record is written',
    cause: err,
  });
}

/** The append lock of the log at `path`; failures other than a timeout become AuditIoError. */
async function lockLog(path: string, waitMs: number): Promise<HeldLock> {
  try {
    return await acquireAuditLock(`${path}.lock`, waitMs);
  } catch (err) {
    throw err instanceof AuditError ? err : ioError(path, 'lock', err);
  }
}

const END_BYTES = 4096n;

/** The hash of the log's first record (it names the chain), undefined while there is none. */
async function firstHash(fh: FileHandle): Promise<string | undefined> {
  const chunk = Buffer.alloc(64 * 1024);
  const parts: Buffer[] = [];
  for (let pos = 0; pos < MAX_LINE_BYTES;) {
    const { bytesRead } = await fh.read(chunk, 0, chunk.length, pos);
    if (bytesRead === 0) return undefined;
    const nl = chunk.subarray(0, bytesRead).indexOf(0x0a);
    parts.push(Buffer.from(chunk.subarray(0, nl === -1 ? bytesRead : nl)));
    if (nl !== -1) {
      const hash = /"hash":"([0-9a-f]{64})"\}$/.exec(Buffer.concat(parts).toString('utf8'))?.[1];
      return hash;
    }
    pos += bytesRead;
  }
  return undefined;
}

async function lastBytes(fh: FileHandle, size: bigint): Promise<Buffer> {
  const n = size < END_BYTES ? size : END_BYTES;
  const buf = Buffer.alloc(Number(n));
  const { bytesRead } = await fh.read(buf, 0, buf.length, Number(size - n));
  return buf.subarray(0, bytesRead);
}

export class AuditLog {
  readonly path: string;
  readonly #lockWaitMs: number;
  #fh: FileHandle | undefined;
  #ino: number;
  #head: ChainHead;
  #firstHash: string | undefined;
  /** The file as this instance left it after its last append, to skip re-reading an untouched tail. */
  #written: { ino: bigint; size: bigint; ctimeNs: bigint; end: Buffer } | undefined;
  // Appends of this process queue here; the file lock orders them against other processes.
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(path: string, fh: FileHandle, ino: number, head: ChainHead, lockWaitMs: number) {
    this.path = path;
    this.#fh = fh;
    this.#ino = ino;
    this.#head = head;
    this.#lockWaitMs = lockWaitMs;
  }

  /**
   * Opens (creating with mode 0600, parent directories 0700) the log at `path` and reads its end.
   * Throws AuditChainError when the end is damaged. A torn last line is not an error: the next
   * append cuts it off and records that it did.
   */
  static async open(path: string, options: AuditLogOptions = {}): Promise<AuditLog> {
    const abs = resolve(path);
    const lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
    let fh: FileHandle;
    try {
      await mkdir(dirname(abs), { recursive: true, mode: 0o700 });
      const existed = await stat(abs).then(
        () => true,
        () => false,
      );
      fh = await open(abs, 'a+', 0o600);
      if (!existed) await syncDir(dirname(abs));
    } catch (err) {
      throw ioError(abs, 'open', err);
    }
    try {
      if (options.verifyChain) {
        const result = await verifyAuditLog(abs);
        if (!result.ok && result.reason !== TORN_REASON) {
          throw chainError(abs, `line ${result.line}: ${result.reason}`);
        }
      }
      const lock = await lockLog(abs, lockWaitMs);
      let tail: Tail;
      let ino: number;
      try {
        const st = await fh.stat();
        ino = st.ino;
        tail = await readTail(fh, st.size);
      } finally {
        await lock.release();
      }
      if (tail.damage !== undefined) throw chainError(abs, tail.damage);
      const log = new AuditLog(abs, fh, ino, tail.head, lockWaitMs);
      log.#firstHash = await firstHash(fh);
      return log;
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /**
   * The hash of the log's first record: it names this log (its chain) wherever the head is
   * anchored. Undefined until the log has a record.
   */
  get firstHash(): string | undefined {
    return this.#firstHash;
  }

  /** seq and hash of the last record this instance has seen (0 and genesis for an empty log). */
  get head(): ChainHead {
    return { ...this.#head };
  }

  /**
   * Masks Secret values, assigns seq, time, prev and hash, writes the record as one line and
   * fsyncs it. Concurrent calls queue; other processes are kept out by the lock file.
   */
  async append(input: AuditInput): Promise<AuditRecord> {
    // Everything up to the first await runs at call time: the input is checked and copied now
    // (later changes by the caller do not leak in) and the call takes its place in the queue.
    if (this.#fh === undefined) throw this.#closed();
    const body = prepareInput(input);
    const run = this.#queue.then(() => this.#appendLocked(body));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Waits for queued appends, then closes the file. Further appends fail. */
  async close(): Promise<void> {
    const fh = this.#fh;
    if (fh === undefined) return;
    await this.#queue;
    this.#fh = undefined;
    await fh.close();
  }

  #closed(): AuditClosedError {
    return new AuditClosedError(`audit log ${this.path} is closed`, {
      hint: 'open it again with AuditLog.open before appending',
    });
  }

  async #appendLocked(body: AuditInput): Promise<AuditRecord> {
    if (this.#fh === undefined) throw this.#closed();
    const lock = await lockLog(this.path, this.#lockWaitMs);
    try {
      const fh = await this.#currentFile();
      const tail = await this.#tail(fh);
      if (tail.damage !== undefined) throw chainError(this.path, tail.damage);

      let details = body.details;
      if (tail.torn !== undefined) {
        // Only bytes after the last newline: an append that never completed (the lock rules out
        // one in progress). Everything before them is history and is never cut.
        // Its seq may have reached the disk (and a reader): it is skipped, never reused.
        const repaired: RepairedTornLine = {
          line: tail.torn.line,
          bytes: tail.torn.bytes,
          seq: tail.torn.seq,
        };
        details = { ...details, repairedTornLine: repaired };
      }
      const unsigned: Omit<AuditRecord, 'hash'> = {
        ...body,
        ...(details === undefined ? {} : { details }),
        seq: tail.torn === undefined ? tail.head.seq + 1 : tail.torn.seq + 1,
        time: new Date().toISOString(),
        prev: tail.head.hash,
      };
      const record: AuditRecord = { ...unsigned, hash: hashRecord(unsigned) };
      const bytes = Buffer.from(`${recordLine(record)}\n`, 'utf8');
      if (bytes.length > MAX_LINE_BYTES) {
        throw new AuditInputError(
          `audit record for app ${record.app} is ${bytes.length} bytes, over the limit of ${MAX_LINE_BYTES}; nothing was written`,
          { hint: 'record fewer fields per object (e.g. only changed fields) for reconciles this large' },
        );
      }

      if (tail.torn !== undefined) {
        await fh.truncate(tail.completeEnd).catch((err: unknown) => {
          throw ioError(this.path, 'cut the torn last line of', err);
        });
      }
      this.#written = undefined;
      await this.#write(fh, bytes, tail.completeEnd);
      this.#head = { seq: record.seq, hash: record.hash };
      if (record.prev === AUDIT_GENESIS) this.#firstHash = record.hash;
      else this.#firstHash ??= await firstHash(fh);
      const st = await fh.stat({ bigint: true });
      this.#written = { ino: st.ino, size: st.size, ctimeNs: st.ctimeNs, end: await lastBytes(fh, st.size) };
      return record;
    } finally {
      await lock.release();
    }
  }

  /**
   * The end of the file. When nothing has changed it since our own last append (same inode, size
   * and ctime, which no user call can set back, and the same last bytes, in case a change fell in
   * the same clock tick), the head is known and the last lines, possibly megabytes of JSON, need
   * not be parsed and hashed again.
   */
  async #tail(fh: FileHandle): Promise<Tail> {
    const st = await fh.stat({ bigint: true });
    const w = this.#written;
    if (
      w !== undefined &&
      w.ino === st.ino &&
      w.size === st.size &&
      w.ctimeNs === st.ctimeNs &&
      w.end.equals(await lastBytes(fh, st.size))
    ) {
      return { head: this.#head, completeEnd: Number(st.size) };
    }
    return readTail(fh, Number(st.size));
  }

  /** One write (looping only on a short write) and an fsync; on failure, undo the partial line. */
  async #write(fh: FileHandle, bytes: Buffer, sizeBefore: number): Promise<void> {
    try {
      let done = 0;
      while (done < bytes.length) {
        // The file is opened with O_APPEND: the position argument is ignored, writes go to the end.
        const { bytesWritten } = await fh.write(bytes, done, bytes.length - done);
        done += bytesWritten;
      }
      await fh.sync();
    } catch (err) {
      await fh.truncate(sizeBefore).catch(() => undefined);
      throw ioError(this.path, 'write to', err);
    }
  }

  /** The open file, reopened if the path now names another file (rotated or replaced). */
  async #currentFile(): Promise<FileHandle> {
    const fh = this.#fh;
    if (fh === undefined) throw this.#closed();
    const onDisk = await stat(this.path).catch(() => undefined);
    if (onDisk?.ino === this.#ino) return fh;
    let next: FileHandle;
    try {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      next = await open(this.path, 'a+', 0o600);
      if (onDisk === undefined) await syncDir(dirname(this.path));
    } catch (err) {
      throw ioError(this.path, 'reopen', err);
    }
    await fh.close().catch(() => undefined);
    this.#fh = next;
    this.#ino = (await next.stat()).ino;
    return next;
  }
}
