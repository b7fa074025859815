import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { Document, Node } from 'yaml';

/** A key path as zod reports it: object keys and list positions. */
export type KeyPath = readonly PropertyKey[];

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `apps[0].sync.mode`; odd keys in brackets (`labels["a.b/c"]`). */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const key = String(seg);
      out += PLAIN_KEY.test(key) ? (out ? `.${key}` : key) : `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}

/**
 * Offset in the text of what `path` names: the value (or with `key: true` the key) when it
 * exists, else the deepest node on the way, so that a missing key points at its parent.
 */
export function locate(doc: Document, path: KeyPath, opts: { key?: boolean } = {}): number {
  let node: Node | null = doc.contents;
  let offset = node?.range?.[0] ?? 0;
  for (let i = 0; i < path.length && node; i++) {
    const seg = path[i];
    const target: unknown = isAlias(node) ? node.resolve(doc) : node;
    if (isSeq(target) && typeof seg === 'number') {
      const item = target.items[seg];
      if (!isNode(item)) return offset;
      node = item;
    } else if (isMap(target)) {
      const pair = target.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair || !isNode(pair.key)) return offset;
      if (i === path.length - 1 && opts.key) return pair.key.range?.[0] ?? offset;
      if (!isNode(pair.value)) return pair.key.range?.[0] ?? offset;
      node = pair.value;
    } else {
      return offset;
    }
    offset = node.range?.[0] ?? offset;
  }
  return offset;
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && 'range' in v;
}
