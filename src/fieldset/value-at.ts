/**
 * Resolving paths against real objects: `[name=web]` finds the list item whose key fields
 * equal the key, `[=x]` the item equal to x, `[3]` the item at position 3.
 */
import { deepEqual, isPlainObject } from './json.ts';
import type { Path, PathElement } from './path.ts';
import { isFieldElement, isIndexElement, isKeyElement } from './path.ts';

/** Position of the element in `container`, or undefined when it is not there. */
function step(container: unknown, pe: PathElement): string | number | undefined {
  if (isFieldElement(pe)) {
    return isPlainObject(container) && Object.hasOwn(container, pe.field) ? pe.field : undefined;
  }
  if (!Array.isArray(container)) return undefined;
  if (isIndexElement(pe)) return pe.index < container.length ? pe.index : undefined;
  let i: number;
  if (isKeyElement(pe)) {
    const entries = Object.entries(pe.key);
    i = container.findIndex(
      (item) =>
        isPlainObject(item) && entries.every(([k, v]) => Object.hasOwn(item, k) && deepEqual(item[k], v)),
    );
  } else {
    const wanted = pe.value;
    i = container.findIndex((item) => deepEqual(item, wanted));
  }
  return i < 0 ? undefined : i;
}

/** The value at `path` in `obj`; `found: false` when any step is missing. */
export function valueAt(obj: unknown, path: Path): { found: boolean; value?: unknown } {
  let cur: unknown = obj;
  for (const pe of path) {
    const at = step(cur, pe);
    if (at === undefined) return { found: false };
    cur = (cur as Record<string | number, unknown>)[at];
  }
  return { found: true, value: cur };
}

/** The RFC 6901 JSON pointer of `path` resolved against `obj`, or undefined when it is not there. */
export function pointerAt(obj: unknown, path: Path): string | undefined {
  let cur: unknown = obj;
  let pointer = '';
  for (const pe of path) {
    const at = step(cur, pe);
    if (at === undefined) return undefined;
    pointer += '/' + String(at).replaceAll('~', '~0').replaceAll('/', '~1');
    cur = (cur as Record<string | number, unknown>)[at];
  }
  return pointer;
}
