/**
 * Line diff (Myers' O(ND) algorithm) and unified-diff hunks. Common leading and trailing lines
 * are trimmed first; a middle part needing more than MAX_EDITS edits is shown as a whole
 * removal plus a whole insertion (still a correct diff, just not a minimal one).
 */

export type LineOp = { op: ' ' | '-' | '+'; line: string };

const MAX_EDITS = 4000;

export function diffLines(a: readonly string[], b: readonly string[]): LineOp[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const same = (lines: readonly string[]): LineOp[] => lines.map((line) => ({ op: ' ', line }));
  return [
    ...same(a.slice(0, start)),
    ...middle(a.slice(start, endA), b.slice(start, endB)),
    ...same(a.slice(endA)),
  ];
}

function middle(a: readonly string[], b: readonly string[]): LineOp[] {
  const removeAll = a.map((line): LineOp => ({ op: '-', line }));
  const addAll = b.map((line): LineOp => ({ op: '+', line }));
  if (a.length === 0 || b.length === 0) return [...removeAll, ...addAll];
  const n = a.length;
  const m = b.length;
  const maxD = Math.min(n + m, MAX_EDITS);
  const off = maxD + 1;
  const v = new Int32Array(2 * maxD + 3);
  // trace[d] holds v[k] for k in [-(d+1), d+1] as it was before step d.
  const trace: Int32Array[] = [];
  const get = (d: number, k: number): number => (trace[d] as Int32Array)[k + d + 1] as number;
  for (let d = 0; d <= maxD; d++) {
    trace.push(v.slice(off - d - 1, off + d + 2));
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && (v[off + k - 1] as number) < (v[off + k + 1] as number));
      let x = down ? (v[off + k + 1] as number) : (v[off + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) return backtrack(a, b, d, get);
    }
  }
  return [...removeAll, ...addAll];
}

function backtrack(
  a: readonly string[],
  b: readonly string[],
  depth: number,
  get: (d: number, k: number) => number,
): LineOp[] {
  const out: LineOp[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = depth; d >= 0; d--) {
    const k = x - y;
    const down = k === -d || (k !== d && get(d, k - 1) < get(d, k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = get(d, prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      out.push({ op: ' ', line: a[x - 1] as string });
      x--;
      y--;
    }
    if (d > 0) {
      if (down) out.push({ op: '+', line: b[y - 1] as string });
      else out.push({ op: '-', line: a[x - 1] as string });
    }
    x = prevX;
    y = prevY;
  }
  return out.reverse();
}

export interface Hunk {
  /** 0-based first line and line count on each side. */
  oldStart: number;
  oldCount: number;
  newStart: number;
  newCount: number;
  ops: LineOp[];
}

/** Groups a diff into hunks with `context` unchanged lines around each change. */
export function hunks(ops: readonly LineOp[], context: number): Hunk[] {
  const changed: number[] = [];
  ops.forEach((o, i) => {
    if (o.op !== ' ') changed.push(i);
  });
  if (changed.length === 0) return [];
  const groups: [number, number][] = [];
  for (const i of changed) {
    const last = groups[groups.length - 1];
    if (last !== undefined && i - last[1] - 1 <= 2 * context) last[1] = i;
    else groups.push([i, i]);
  }
  // Line numbers before each op.
  const oldAt: number[] = [];
  const newAt: number[] = [];
  let o = 0;
  let n = 0;
  for (const op of ops) {
    oldAt.push(o);
    newAt.push(n);
    if (op.op !== '+') o++;
    if (op.op !== '-') n++;
  }
  return groups.map(([first, last]) => {
    const from = Math.max(0, first - context);
    const to = Math.min(ops.length - 1, last + context);
    const slice = ops.slice(from, to + 1);
    return {
      oldStart: oldAt[from] as number,
      oldCount: slice.filter((s) => s.op !== '+').length,
      newStart: newAt[from] as number,
      newCount: slice.filter((s) => s.op !== '-').length,
      ops: slice,
    };
  });
}

/** `-12,3` style range as GNU diff writes it: an empty range names the line before it. */
export function formatRange(start: number, count: number): string {
  if (count === 0) return `${start},0`;
  if (count === 1) return `${start + 1}`;
  return `${start + 1},${count}`;
}
