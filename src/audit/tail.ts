/**
 * The end of the log, read backwards in chunks so the cost does not grow with the file: the last
 * two complete lines (enough to check the last record and its link) and a torn tail, if any.
 */
import type { FileHandle } from 'node:fs/promises';
import { EMPTY_HEAD, chainProblem, type ChainHead } from './chain.ts';
import { parseRecordLine } from './parse.ts';
import { AUDIT_GENESIS, MAX_LINE_BYTES, type AuditRecord } from './record.ts';

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

export interface Tail {
  /** The chain head after the last complete line. */
  head: ChainHead;
  /** Byte offset just past the last complete line's newline. */
  completeEnd: number;
  /**
   * Bytes after the last newline: an append that did not finish. `seq` is the seq it was
   * written with when its first bytes say so, else the one after the head.
   */
  torn?: { line: number; bytes: number; seq: number };
  /** Why the last complete lines cannot be built on. */
  damage?: string;
}

/** Offsets of up to `count` newlines before `end`, last first. */
async function newlinesBefore(fh: FileHandle, end: number, count: number): Promise<number[]> {
  const found: number[] = [];
  const buf = Buffer.alloc(CHUNK);
  let pos = end;
  while (pos > 0 && found.length < count) {
    const start = Math.max(0, pos - CHUNK);
    const { bytesRead } = await fh.read(buf, 0, pos - start, start);
    let i = bytesRead;
    // lastIndexOf counts a negative offset from the end: stop before i - 1 < 0.
    while (found.length < count && i > 0) {
      i = buf.lastIndexOf(NEWLINE, i - 1);
      if (i < 0) break;
      found.push(start + i);
    }
    pos = start;
  }
  return found;
}

async function readRange(fh: FileHandle, start: number, end: number): Promise<string> {
  const buf = Buffer.alloc(end - start);
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, start + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buf.subarray(0, done).toString('utf8');
}

type LineCheck = { record: AuditRecord } | { damage: string };

async function lineAt(fh: FileHandle, start: number, end: number, which: string): Promise<LineCheck> {
  if (end - start > MAX_LINE_BYTES) return { damage: `${which} line is longer than ${MAX_LINE_BYTES} bytes` };
  const parsed = parseRecordLine(await readRange(fh, start, end));
  if ('reason' in parsed) return { damage: `${which} line: ${parsed.reason}` };
  return { record: parsed.record };
}

/** Reads and checks the end of a log of `size` bytes. */
export async function readTail(fh: FileHandle, size: number): Promise<Tail> {
  if (size === 0) return { head: EMPTY_HEAD, completeEnd: 0 };
  // The last newline ends the last complete line (anything after it is torn); the two before it
  // delimit that line and the one before.
  const [lastNl, prevNl, firstNl] = await newlinesBefore(fh, size, 3);
  const completeEnd = lastNl === undefined ? 0 : lastNl + 1;
  const tail: Tail = { head: EMPTY_HEAD, completeEnd };
  if (lastNl !== undefined) {
    const last = await lineAt(fh, prevNl === undefined ? 0 : prevNl + 1, lastNl, 'last complete');
    if ('damage' in last) return { ...tail, damage: last.damage };
    const record = last.record;
    let before: ChainHead = EMPTY_HEAD;
    if (prevNl !== undefined) {
      const previous = await lineAt(fh, firstNl === undefined ? 0 : firstNl + 1, prevNl, 'second to last');
      if ('damage' in previous) return { ...tail, damage: previous.damage };
      // Its own hash only: its link to the line before is verify's job (that needs the whole file).
      const p = previous.record;
      const problem = chainProblem({ seq: p.seq - 1, hash: p.prev }, p);
      if (problem !== undefined) return { ...tail, damage: `second to last line (seq ${p.seq}): ${problem}` };
      before = { seq: p.seq, hash: p.hash };
    } else if (record.prev !== AUDIT_GENESIS || chainProblem(EMPTY_HEAD, record) !== undefined) {
      return { ...tail, damage: 'the only complete line is not a first record (seq 1, genesis prev)' };
    }
    const problem = chainProblem(before, record);
    if (problem !== undefined)
      return { ...tail, damage: `last complete line (seq ${record.seq}): ${problem}` };
    tail.head = { seq: record.seq, hash: record.hash };
  }
  if (completeEnd < size) {
    const start = await readRange(fh, completeEnd, Math.min(size, completeEnd + 40));
    const written = /^\{"seq":(\d+)[,}]/.exec(start);
    tail.torn = {
      line: (await countNewlines(fh, completeEnd)) + 1,
      bytes: size - completeEnd,
      seq: Math.max(tail.head.seq + 1, written ? Number(written[1]) : 0),
    };
  }
  return tail;
}

/** Newlines in the first `end` bytes: the number of complete lines (read only after a crash). */
async function countNewlines(fh: FileHandle, end: number): Promise<number> {
  const buf = Buffer.alloc(CHUNK);
  let count = 0;
  for (let pos = 0; pos < end; pos += CHUNK) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, end - pos), pos);
    for (let i = buf.indexOf(NEWLINE, 0); i !== -1 && i < bytesRead; i = buf.indexOf(NEWLINE, i + 1)) count++;
    if (bytesRead === 0) break;
  }
  return count;
}
