/**
 * Bytes to text. Files must be UTF-8 (as Kubernetes requires); a leading byte order mark
 * is dropped. Returns undefined for bytes that are not UTF-8, with the offset of the first
 * bad byte.
 */
export function decodeUtf8(bytes: Uint8Array): { text: string } | { badOffset: number } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return { badOffset: firstInvalidOffset(bytes) };
  }
}

/** Finds the first byte that breaks UTF-8, so the error can point at it. */
function firstInvalidOffset(bytes: Uint8Array): number {
  const validWithCutTail = (n: number): boolean => {
    try {
      // stream: a sequence cut at the end of the prefix is not (yet) an error.
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, n), { stream: true });
      return true;
    } catch {
      return false;
    }
  };
  let lo = 0;
  let hi = bytes.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (validWithCutTail(mid)) lo = mid;
    else hi = mid - 1;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, lo));
    return lo;
  } catch {
    // The prefix ends inside a multi-byte sequence: that sequence is the bad one.
  }
  let start = lo;
  while (start > 0 && lo - start < 3 && ((bytes[start - 1] ?? 0) & 0xc0) === 0x80) start--;
  if (start > 0 && ((bytes[start - 1] ?? 0) & 0xc0) === 0xc0) return start - 1;
  return lo;
}

/** 1-based line and column of a byte offset, counting columns in characters. */
export function bytePosition(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line += 1;
      lineStart = i + 1;
    }
  }
  const prefix = new TextDecoder('utf-8').decode(bytes.subarray(lineStart, offset));
  return { line, column: [...prefix].length + 1 };
}
