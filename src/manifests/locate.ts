import { isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Node } from 'yaml';
import type { PathSegment } from './path.ts';
import type { AliasTargets } from './to-json.ts';

/**
 * Finds where a path of a converted document sits in the source, for error messages: the
 * node at the path, or its key with `key: true`, or else the deepest node on the way (so a
 * missing field points at its parent). Follows aliases and merge keys.
 */
export function locateOffset(
  root: Node,
  aliases: AliasTargets,
  path: readonly PathSegment[],
  opts: { key?: boolean } = {},
): number {
  let node: Node = root;
  const start = (n: Node) => n.range?.[0] ?? 0;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i] ?? '';
    const last = i === path.length - 1;
    const target = deref(node, aliases);
    if (typeof segment === 'number') {
      const item: unknown = isSeq(target) ? target.items[segment] : undefined;
      if (!item || typeof item !== 'object') return start(node);
      node = item as Node;
      continue;
    }
    const pair = isMap(target) ? findPair(target.items, segment, aliases) : undefined;
    if (!pair) return start(node);
    if (last && opts.key) return start(pair.key);
    if (!pair.value) return start(pair.key);
    node = pair.value;
  }
  return start(node);
}

function deref(node: Node, aliases: AliasTargets): Node {
  return isAlias(node) ? (aliases.get(node) ?? node) : node;
}

interface NodePair {
  key: Node;
  value: Node | null;
}

/** The last explicit entry for `key` (the one that won), else one from a merged mapping. */
function findPair(items: unknown[], key: string, aliases: AliasTargets): NodePair | undefined {
  let found: NodePair | undefined;
  const merges: Node[] = [];
  for (const item of items) {
    if (!isPair(item)) continue;
    const k = item.key as Node | null;
    const v = item.value as Node | null;
    if (!k) continue;
    const keyTarget = deref(k, aliases);
    if (isScalar(keyTarget) && keyTarget.type === 'PLAIN' && keyTarget.value === '<<' && v) {
      merges.push(v);
      continue;
    }
    if (isScalar(keyTarget) && String(keyTarget.value) === key) found = { key: k, value: v };
  }
  if (found) return found;
  for (const merge of merges) {
    const source = deref(merge, aliases);
    const maps = isSeq(source) ? (source.items as Node[]) : [source];
    for (const m of maps) {
      const map = deref(m, aliases);
      if (!isMap(map)) continue;
      const inner = findPair(map.items, key, aliases);
      if (inner) return inner;
    }
  }
  return undefined;
}
