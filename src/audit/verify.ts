/**
 * Verifying the whole chain, streaming: constant memory whatever the size of the log. The file's
 * size is taken under the append lock, so a line another process is writing right now is not
 * mistaken for a torn one; lines appended after that are simply not part of this check.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EMPTY_HEAD, chainProblem, type ChainHead } from './chain.ts';
import { AuditNotFoundError } from './errors.ts';
import { readLines, type LineStart } from './lines.ts';
import { acquireAuditLock } from './lock.ts';
import { parseRecordLine } from './parse.ts';
import type { AuditRecord } from './record.ts';

export const TORN_REASON = 'incomplete last line (torn write)';

export type VerifyResult = (
  | { ok: true; records: number; head: ChainHead }
  | { ok: false; records: number; line: number; reason: string; head: ChainHead }
) & {
  /** Hashes of the records asked for with `seqs` (to compare with anchors kept elsewhere). */
  hashes: Map<number, string>;
  /** The first record's hash: it names the chain. */
  first: string | undefined;
  /** Every good record's seq, in order. */
  seqs: number[];
};

export type ScanEvent =
  /** `next`: the offset of the line after it (where a later scan resumes). */
  | { kind: 'record'; line: number; record: AuditRecord; next: number }
  | { kind: 'torn'; line: number; bytes: number }
  | { kind: 'bad'; line: number; reason: string };

/** Waiting this long for a writer is plenty (it holds the lock for one append). */
const SNAPSHOT_LOCK_WAIT_MS = 5_000;

/** The size of the log at a moment when no append is half done. Throws AuditNotFoundError. */
export async function snapshotSize(path: string): Promise<number> {
  const exists = await stat(path).catch(() => undefined);
  if (exists === undefined || !exists.isFile()) {
    throw new AuditNotFoundError(`audit log ${path} does not exist`, {
      hint: "pass the log with --audit-log FILE (the CLI's default is $XDG_STATE_HOME/tether/audit.jsonl, ~/.local/state/tether/audit.jsonl; the agent's is auditLog in its config), or read the agent's with --url",
    });
  }
  let lock;
  try {
    lock = await acquireAuditLock(`${path}.lock`, SNAPSHOT_LOCK_WAIT_MS);
  } catch {
    // Read-only copy of a log, or a hung writer: read what is there, without the guarantee.
    return (await stat(path)).size;
  }
  try {
    return (await stat(path)).size;
  } finally {
    await lock.release();
  }
}

/** Where a scan left off: the next line's offset and number, and the chain head before it. */
export interface ScanResume extends LineStart {
  head: ChainHead;
}

/**
 * Checks every line of the first `size` bytes in order; stops after the first bad one. With
 * `resume`, starts where an earlier scan of the same file ended (the lines before it checked).
 */
export async function* scanChain(path: string, size: number, resume?: ScanResume): AsyncGenerator<ScanEvent> {
  let head = resume?.head ?? EMPTY_HEAD;
  for await (const raw of readLines(path, size, resume)) {
    if (!raw.terminated) {
      yield { kind: 'torn', line: raw.line, bytes: raw.bytes };
      return;
    }
    if (raw.text === undefined) {
      yield { kind: 'bad', line: raw.line, reason: `${raw.problem ?? 'unreadable'} at line ${raw.line}` };
      return;
    }
    const parsed = parseRecordLine(raw.text);
    if ('reason' in parsed) {
      yield { kind: 'bad', line: raw.line, reason: `${parsed.reason} at line ${raw.line}` };
      return;
    }
    const problem = chainProblem(head, parsed.record);
    if (problem !== undefined) {
      yield { kind: 'bad', line: raw.line, reason: `${problem} at line ${raw.line}` };
      return;
    }
    head = { seq: parsed.record.seq, hash: parsed.record.hash };
    yield { kind: 'record', line: raw.line, record: parsed.record, next: raw.offset + raw.bytes + 1 };
  }
}

/**
 * Verifies the hash chain of the log at `path`: every line parses, hashes to its `hash`, has
 * seq one more than the line before and `prev` equal to its hash. `records` counts the good
 * records before the first problem; `head` is the last good record's seq and hash (publish it
 * elsewhere to make a rewrite of the whole file detectable too).
 */
export async function verifyAuditLog(
  path: string,
  opts: { seqs?: ReadonlySet<number> } = {},
): Promise<VerifyResult> {
  const abs = resolve(path);
  const size = await snapshotSize(abs);
  let head: ChainHead = EMPTY_HEAD;
  let records = 0;
  const hashes = new Map<number, string>();
  let first: string | undefined;
  const seqs: number[] = [];
  for await (const event of scanChain(abs, size)) {
    if (event.kind === 'record') {
      head = { seq: event.record.seq, hash: event.record.hash };
      first ??= event.record.hash;
      if (opts.seqs?.has(head.seq)) hashes.set(head.seq, head.hash);
      seqs.push(head.seq);
      records++;
    } else {
      const reason = event.kind === 'torn' ? TORN_REASON : event.reason;
      return { ok: false, records, line: event.line, reason, head, hashes, first, seqs };
    }
  }
  return { ok: true, records, head, hashes, first, seqs };
}
