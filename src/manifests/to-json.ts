import { isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Alias, Node, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { formatGoFloatKey, resolvePlainScalar } from './scalars.ts';
import { formatPath } from './path.ts';
import type { PathSegment } from './path.ts';
import type { JsonValue } from './types.ts';

/** Why a document could not be turned into JSON; the caller adds file, line and commit. */
export interface ConvertIssue {
  kind: 'duplicate-key' | 'unrepresentable' | 'limit' | 'invalid';
  /** Offset into the file's text. */
  offset: number;
  detail: string;
  hint: string;
}

class Abort extends Error {
  readonly issue: ConvertIssue;
  constructor(issue: ConvertIssue) {
    super(issue.detail);
    this.issue = issue;
  }
}

const TAG = 'tag:yaml.org,2002:';
const BINARY = `${TAG}binary`;
const MERGE = `${TAG}merge`;
const TYPED = new Set([`${TAG}int`, `${TAG}float`, `${TAG}bool`, `${TAG}null`]);

/**
 * Alias targets of one document, resolved in document order: an alias names the latest anchor
 * defined before it. Kept after conversion so error locations can follow aliases too.
 */
export type AliasTargets = WeakMap<Alias, Node>;

export interface ConvertResult {
  value: JsonValue;
  aliases: AliasTargets;
}

/**
 * Turns one composed YAML document (parsed with the failsafe schema, so every scalar is still
 * text) into JSON data with Kubernetes' YAML 1.1 scalar rules, go-yaml v2 merge keys and
 * sigs.k8s.io/yaml's stringification of non-string keys. Fails on the first problem.
 */
export function toJson(
  root: Node | null,
  limits: { maxAliases: number; maxDepth: number },
): ConvertResult | ConvertIssue {
  const aliases: AliasTargets = new WeakMap();
  const anchors = new Map<string, Node>();
  const expanding = new Set<Node>();
  let aliasCount = 0;

  const fail = (
    kind: ConvertIssue['kind'],
    node: Node | null | undefined,
    detail: string,
    hint: string,
  ): never => {
    throw new Abort({ kind, offset: node?.range?.[0] ?? 0, detail, hint });
  };

  const deref = (alias: Alias, path: PathSegment[]): Node => {
    let target = aliases.get(alias);
    if (!target) {
      // First meeting is always outside an expansion: anchors precede their aliases.
      target = anchors.get(alias.source);
      if (!target) {
        return fail(
          'invalid',
          alias,
          `alias *${alias.source} at ${formatPath(path)} refers to no anchor defined before it`,
          `define &${alias.source} earlier in the same document`,
        );
      }
      aliases.set(alias, target);
    }
    aliasCount += 1;
    if (aliasCount > limits.maxAliases) {
      fail(
        'limit',
        alias,
        `more than ${limits.maxAliases} alias expansions in one document`,
        'expand the repeated content instead of aliasing it (this limit guards against "billion laughs" documents)',
      );
    }
    return target;
  };

  const convert = (node: Node | null, path: PathSegment[], depth: number): JsonValue => {
    if (node === null) return null;
    if (isAlias(node)) {
      const target = deref(node, path);
      if (expanding.has(target))
        fail('invalid', node, `alias *${node.source} refers to itself`, 'remove the cycle');
      expanding.add(target);
      const value = convert(target, path, depth);
      expanding.delete(target);
      return value;
    }
    let value: JsonValue;
    if (isScalar(node)) value = scalarValue(node, path);
    else if (isMap(node)) value = mapValue(node, path, depth + 1);
    else if (isSeq(node)) value = seqValue(node, path, depth + 1);
    else
      value = fail(
        'invalid',
        node,
        `unsupported YAML node at ${formatPath(path)}`,
        'use mappings, sequences and scalars only',
      );
    // Register after the content so an alias inside its own anchor is an error, and only
    // outside expansions so re-walking anchored content cannot rebind names.
    if (node.anchor && expanding.size === 0) anchors.set(node.anchor, node);
    return value;
  };

  const checkDepth = (node: Node, depth: number): void => {
    if (depth > limits.maxDepth) {
      fail(
        'limit',
        node,
        `nesting deeper than ${limits.maxDepth} levels`,
        'flatten the document; deep nesting is refused to protect the agent',
      );
    }
  };

  const seqValue = (node: YAMLSeq, path: PathSegment[], depth: number): JsonValue[] => {
    checkDepth(node, depth);
    return node.items.map((item, i) => convert(item as Node | null, [...path, i], depth));
  };

  const mapValue = (node: YAMLMap, path: PathSegment[], depth: number): { [key: string]: JsonValue } => {
    checkDepth(node, depth);
    const out: { [key: string]: JsonValue } = {};
    const explicit = new Set<string>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as Node | null;
      const valueNode = pair.value as Node | null;
      if (isMergeKey(keyNode)) {
        mergeInto(out, valueNode, path, depth);
        continue;
      }
      const key = keyString(keyNode, path);
      if (explicit.has(key)) {
        fail(
          'duplicate-key',
          keyNode,
          `duplicate key ${JSON.stringify(key.length > 64 ? `${key.slice(0, 60)}...` : key)} in the mapping at ${formatPath(path)}`,
          'remove one of the two entries (Kubernetes would keep only the last one)',
        );
      }
      explicit.add(key);
      setKey(out, key, convert(valueNode, [...path, key], depth));
    }
    return out;
  };

  // go-yaml v2 writes merged entries in place, in order: a later explicit key wins over a
  // merged one, and so does a later merge over an earlier explicit key. In a list of merge
  // sources the first wins, because v2 applies them last to first.
  const mergeInto = (
    out: { [key: string]: JsonValue },
    source: Node | null,
    path: PathSegment[],
    depth: number,
  ): void => {
    const wantMap = (): never =>
      fail(
        'invalid',
        source,
        `merge key << at ${formatPath(path)} needs a mapping or a list of mappings`,
        'merge only mappings',
      );
    const resolveMap = (node: Node | null): Node => {
      if (node && isAlias(node)) {
        const target = aliases.get(node) ?? anchors.get(node.source);
        if (target && !isMap(target)) wantMap();
      } else if (!node || !isMap(node)) {
        wantMap();
      }
      return node as Node;
    };
    const sources = source && isSeq(source) ? [...(source.items as (Node | null)[])].reverse() : [source];
    for (const item of sources) {
      const merged = convert(resolveMap(item), path, depth - 1);
      for (const [k, v] of Object.entries(merged as { [key: string]: JsonValue })) setKey(out, k, v);
    }
  };

  const keyString = (node: Node | null, path: PathSegment[]): string => {
    let target: Node | null = node;
    if (target && isAlias(target)) target = deref(target, path);
    if (!target || !isScalar(target)) {
      return fail(
        'invalid',
        node,
        `a mapping key at ${formatPath(path)} is not a scalar`,
        'use strings as mapping keys',
      );
    }
    const tag = target.tag;
    const text = String(target.value);
    if ((tag === undefined && target.type !== 'PLAIN') || (tag !== undefined && !TYPED.has(tag))) return text;
    const r = resolvePlainScalar(text);
    switch (r.kind) {
      case 'str':
        return text;
      case 'bool':
        return String(r.value);
      case 'int':
        if (r.value > 2n ** 63n - 1n) {
          return fail(
            'unrepresentable',
            node,
            `map key ${text} at ${formatPath(path)} is out of range`,
            'quote the key',
          );
        }
        return r.value.toString();
      case 'float':
        return formatGoFloatKey(r.value);
      case 'null':
        return fail(
          'unrepresentable',
          node,
          `null mapping key at ${formatPath(path)}`,
          'quote the key, or give it a name',
        );
    }
  };

  const scalarValue = (node: Scalar, path: PathSegment[]): JsonValue => {
    const tag = node.tag;
    const text = String(node.value);
    if (tag === undefined)
      return node.type === 'PLAIN' ? typedValue(resolvePlainScalar(text), node, path) : text;
    if (tag === BINARY) return Buffer.from(text.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (TYPED.has(tag)) {
      const r = resolvePlainScalar(text);
      const want = tag.slice(TAG.length);
      const got = r.kind === 'str' ? 'str' : r.kind;
      const ok = want === got || (want === 'float' && got === 'int');
      if (!ok) {
        fail(
          'invalid',
          node,
          `the value at ${formatPath(path)} is tagged !!${want} but is not one`,
          `remove the !!${want} tag or fix the value`,
        );
      }
      return typedValue(r, node, path);
    }
    // !!str, !!timestamp, and tags Kubernetes does not know all leave the text as it is.
    return text;
  };

  const typedValue = (
    r: ReturnType<typeof resolvePlainScalar>,
    node: Scalar,
    path: PathSegment[],
  ): JsonValue => {
    switch (r.kind) {
      case 'str':
        return String(node.value);
      case 'null':
        return null;
      case 'bool':
        return r.value;
      case 'int':
        if (r.value > BigInt(Number.MAX_SAFE_INTEGER) || r.value < BigInt(Number.MIN_SAFE_INTEGER)) {
          return unsafeInteger(node, path);
        }
        return Number(r.value);
      case 'float':
        if (r.integerSyntax && !Number.isSafeInteger(r.value)) return unsafeInteger(node, path);
        if (!Number.isFinite(r.value)) {
          return fail(
            'unrepresentable',
            node,
            `${String(node.value)} at ${formatPath(path)} is not a JSON number; Kubernetes rejects it`,
            `quote it ("${String(node.value)}") if you mean the string`,
          );
        }
        return r.value;
    }
  };

  const unsafeInteger = (node: Node, path: PathSegment[]): never =>
    fail(
      'unrepresentable',
      node,
      `the integer at ${formatPath(path)} is beyond ±2^53 and would lose precision`,
      'use a smaller number, or quote it if the field takes a string',
    );

  try {
    const value = convert(root, [], 0);
    return { value, aliases };
  } catch (e) {
    if (e instanceof Abort) return e.issue;
    throw e;
  }
}

function isMergeKey(node: Node | null): boolean {
  return (
    !!node &&
    isScalar(node) &&
    node.type === 'PLAIN' &&
    node.value === '<<' &&
    (node.tag === undefined || node.tag === MERGE)
  );
}

/** Assigning "__proto__" would set the prototype rather than add a key. */
function setKey(out: { [key: string]: JsonValue }, key: string, value: JsonValue): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}
