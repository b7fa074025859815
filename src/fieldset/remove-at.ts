/**
 * Removing fields from an object Tether is about to apply: fields another manager owns under
 * an ignore rule or a reported conflict are left out, so the apply neither claims nor
 * changes them (as Flux does for ignored fields).
 */
import { cloneJson, isPlainObject } from './json.ts';
import type { Path } from './path.ts';
import { pointerAt } from './value-at.ts';

function decode(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

/** Orders pointers so that list positions compare as numbers ("/a/9" before "/a/10"). */
function comparePointers(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] === y[i]) continue;
    const [m, n] = [Number(x[i]), Number(y[i])];
    return Number.isInteger(m) && Number.isInteger(n) ? m - n : x[i]! < y[i]! ? -1 : 1;
  }
  return x.length - y.length;
}

/** A copy of `obj` without the given paths; maps and lists emptied by a removal go too. */
export function withoutPaths<T>(obj: T, paths: Path[]): T {
  const out = cloneJson(obj);
  // Resolve every pointer before removing anything: list positions shift on removal.
  const pointers = paths
    .map((p) => pointerAt(out, p))
    .filter((p): p is string => p !== undefined && p !== '')
    .sort(comparePointers)
    .reverse();
  for (const pointer of pointers) {
    const segments = pointer.slice(1).split('/').map(decode);
    const chain: unknown[] = [out];
    for (const s of segments.slice(0, -1)) chain.push((chain.at(-1) as Record<string, unknown>)[s]);
    for (let i = segments.length - 1; i >= 0; i--) {
      const parent = chain[i];
      const key = segments[i]!;
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else if (isPlainObject(parent)) delete parent[key];
      const empty = Array.isArray(parent)
        ? parent.length === 0
        : isPlainObject(parent) && Object.keys(parent).length === 0;
      // Stop at the first ancestor that still holds something, and never empty the root.
      if (!empty || i === 0) break;
    }
  }
  return out;
}
