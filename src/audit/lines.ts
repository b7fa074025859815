/**
 * Streams the lines of a file in constant memory (one line at a time, capped at MAX_LINE_BYTES).
 * Splits on '\n' only: readline would also split on a lone '\r' and misnumber the lines of a
 * damaged file, and it cannot tell whether the last line had its newline.
 */
import { createReadStream } from 'node:fs';
import { MAX_LINE_BYTES } from './record.ts';

export interface RawLine {
  /** 1-based. */
  line: number;
  /** Byte offset of the line's first byte. */
  offset: number;
  /** Length in bytes, without the newline. */
  bytes: number;
  /** Whether the line ends with '\n' (only the last line of a file can lack it). */
  terminated: boolean;
  /** The text, or undefined with `problem` set when it is not readable. */
  text?: string;
  problem?: 'invalid UTF-8' | 'line too long';
}

const NEWLINE = 0x0a;

/** Where to start reading: the first byte of a line, and that line's number. */
export interface LineStart {
  offset: number;
  line: number;
}

/** Lines of `path` within bytes [from.offset, size) (by default the whole of [0, size)). */
export async function* readLines(
  path: string,
  size: number,
  from: LineStart = { offset: 0, line: 1 },
): AsyncGenerator<RawLine> {
  if (size <= from.offset) return;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let parts: Buffer[] = [];
  let partBytes = 0; // bytes of the current line so far (kept or not)
  let tooLong = false;
  let offset = from.offset; // of the current line
  let line = from.line;

  const finish = (terminated: boolean): RawLine => {
    const out: RawLine = { line, offset, bytes: partBytes, terminated };
    if (tooLong) out.problem = 'line too long';
    else {
      try {
        out.text = decoder.decode(parts.length === 1 ? parts[0] : Buffer.concat(parts));
      } catch {
        out.problem = 'invalid UTF-8';
      }
    }
    offset += partBytes + (terminated ? 1 : 0);
    line++;
    parts = [];
    partBytes = 0;
    tooLong = false;
    return out;
  };
  const keep = (piece: Buffer): void => {
    partBytes += piece.length;
    if (partBytes > MAX_LINE_BYTES) {
      tooLong = true;
      parts = [];
    } else if (piece.length > 0) parts.push(piece);
  };

  const stream = createReadStream(path, { start: from.offset, end: size - 1, highWaterMark: 1024 * 1024 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE, start); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      keep(chunk.subarray(start, nl));
      yield finish(true);
      start = nl + 1;
    }
    // Copy: the stream may reuse its buffer pool.
    if (start < chunk.length) keep(Buffer.from(chunk.subarray(start)));
  }
  if (partBytes > 0 || tooLong) yield finish(false);
}
