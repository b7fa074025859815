import { isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Alias, Node, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { formatGoFloatKey, resolvePlainScalar } from './scalars.ts';
import type { Resolved } from './scalars.ts';
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

/** What the conversion of one document carries from node to node. */
interface Conversion {
  readonly limits: { maxAliases: number; maxDepth: number };
  readonly aliases: AliasTargets;
  /** Anchors defined so far, by name; a later anchor of the same name replaces an earlier one. */
  readonly anchors: Map<string, Node>;
  /** Anchored nodes being expanded through an alias right now, to catch cycles. */
  readonly expanding: Set<Node>;
  aliasCount: number;
}

type JsonObject = { [key: string]: JsonValue };

/**
 * Turns one composed YAML document (parsed with the failsafe schema, so every scalar is still
 * text) into JSON data with Kubernetes' YAML 1.1 scalar rules, go-yaml v2 merge keys and
 * sigs.k8s.io/yaml's stringification of non-string keys. Fails on the first problem.
 */
export function toJson(
  root: Node | null,
  limits: { maxAliases: number; maxDepth: number },
): ConvertResult | ConvertIssue {
  const cx: Conversion = {
    limits,
    aliases: new WeakMap(),
    anchors: new Map(),
    expanding: new Set(),
    aliasCount: 0,
  };
  try {
    const value = convert(cx, root, [], 0);
    return { value, aliases: cx.aliases };
  } catch (e) {
    if (e instanceof Abort) return e.issue;
    throw e;
  }
}

/** Stops the conversion; toJson turns this into its result. */
function fail(
  kind: ConvertIssue['kind'],
  node: Node | null | undefined,
  detail: string,
  hint: string,
): never {
  throw new Abort({ kind, offset: node?.range?.[0] ?? 0, detail, hint });
}

function convert(cx: Conversion, node: Node | null, path: PathSegment[], depth: number): JsonValue {
  if (node === null) return null;
  if (isAlias(node)) return expandAlias(cx, node, path, depth);
  const value = nodeValue(cx, node, path, depth);
  // Register after the content so an alias inside its own anchor is an error, and only
  // outside expansions so re-walking anchored content cannot rebind names.
  if (node.anchor && cx.expanding.size === 0) cx.anchors.set(node.anchor, node);
  return value;
}

function nodeValue(cx: Conversion, node: Node, path: PathSegment[], depth: number): JsonValue {
  if (isScalar(node)) return scalarValue(node, path);
  if (isMap(node)) return mapValue(cx, node, path, depth + 1);
  if (isSeq(node)) return seqValue(cx, node, path, depth + 1);
  return fail(
    'invalid',
    node,
    `unsupported YAML node at ${formatPath(path)}`,
    'use mappings, sequences and scalars only',
  );
}

/** Converts an alias's target again, in place, at the alias's depth. */
function expandAlias(cx: Conversion, alias: Alias, path: PathSegment[], depth: number): JsonValue {
  const target = deref(cx, alias, path);
  if (cx.expanding.has(target))
    fail('invalid', alias, `alias *${alias.source} refers to itself`, 'remove the cycle');
  cx.expanding.add(target);
  const value = convert(cx, target, path, depth);
  cx.expanding.delete(target);
  return value;
}

/** The node an alias names, remembered for locating errors later; counts toward maxAliases. */
function deref(cx: Conversion, alias: Alias, path: PathSegment[]): Node {
  let target = cx.aliases.get(alias);
  if (!target) {
    // First meeting is always outside an expansion: anchors precede their aliases.
    target = cx.anchors.get(alias.source);
    if (!target) {
      return fail(
        'invalid',
        alias,
        `alias *${alias.source} at ${formatPath(path)} refers to no anchor defined before it`,
        `define &${alias.source} earlier in the same document`,
      );
    }
    cx.aliases.set(alias, target);
  }
  cx.aliasCount += 1;
  if (cx.aliasCount > cx.limits.maxAliases) {
    fail(
      'limit',
      alias,
      `more than ${cx.limits.maxAliases} alias expansions in one document`,
      'expand the repeated content instead of aliasing it (this limit guards against "billion laughs" documents)',
    );
  }
  return target;
}

function checkDepth(cx: Conversion, node: Node, depth: number): void {
  if (depth > cx.limits.maxDepth) {
    fail(
      'limit',
      node,
      `nesting deeper than ${cx.limits.maxDepth} levels`,
      'flatten the document; deep nesting is refused to protect the agent',
    );
  }
}

function seqValue(cx: Conversion, node: YAMLSeq, path: PathSegment[], depth: number): JsonValue[] {
  checkDepth(cx, node, depth);
  return node.items.map((item, i) => convert(cx, item as Node | null, [...path, i], depth));
}

function mapValue(cx: Conversion, node: YAMLMap, path: PathSegment[], depth: number): JsonObject {
  checkDepth(cx, node, depth);
  const out: JsonObject = {};
  // Only explicit keys can clash; merged ones are overwritten silently.
  const explicit = new Set<string>();
  for (const pair of node.items) {
    if (!isPair(pair)) continue;
    const keyNode = pair.key as Node | null;
    const valueNode = pair.value as Node | null;
    if (isMergeKey(keyNode)) {
      mergeInto(cx, out, valueNode, path, depth);
      continue;
    }
    const key = keyString(cx, keyNode, path);
    if (explicit.has(key)) duplicateKey(keyNode, key, path);
    explicit.add(key);
    setKey(out, key, convert(cx, valueNode, [...path, key], depth));
  }
  return out;
}

function duplicateKey(keyNode: Node | null, key: string, path: PathSegment[]): never {
  const shown = key.length > 64 ? `${key.slice(0, 60)}...` : key;
  return fail(
    'duplicate-key',
    keyNode,
    `duplicate key ${JSON.stringify(shown)} in the mapping at ${formatPath(path)}`,
    'remove one of the two entries (Kubernetes would keep only the last one)',
  );
}

/**
 * go-yaml v2 writes merged entries in place, in order: a later explicit key wins over a
 * merged one, and so does a later merge over an earlier explicit key. In a list of merge
 * sources the first wins, because v2 applies them last to first.
 */
function mergeInto(
  cx: Conversion,
  out: JsonObject,
  source: Node | null,
  path: PathSegment[],
  depth: number,
): void {
  const sources = source && isSeq(source) ? [...(source.items as (Node | null)[])].reverse() : [source];
  for (const item of sources) {
    checkMergeable(cx, item, source, path);
    // The merged mapping's entries sit at the level of `out`, so it is converted one level up.
    const merged = convert(cx, item, path, depth - 1);
    for (const [k, v] of Object.entries(merged as JsonObject)) setKey(out, k, v);
  }
}

/**
 * Fails, pointing at the whole merge value `source`, unless `item` is a mapping or an alias
 * whose target is one. An alias to no anchor passes here and fails in convert.
 */
function checkMergeable(cx: Conversion, item: Node | null, source: Node | null, path: PathSegment[]): void {
  let mergeable: boolean;
  if (item && isAlias(item)) {
    const target = cx.aliases.get(item) ?? cx.anchors.get(item.source);
    mergeable = !target || isMap(target);
  } else {
    mergeable = !!item && isMap(item);
  }
  if (!mergeable) {
    fail(
      'invalid',
      source,
      `merge key << at ${formatPath(path)} needs a mapping or a list of mappings`,
      'merge only mappings',
    );
  }
}

/** A mapping key as sigs.k8s.io/yaml stringifies it: typed scalars become their JSON text. */
function keyString(cx: Conversion, node: Node | null, path: PathSegment[]): string {
  const target = node && isAlias(node) ? deref(cx, node, path) : node;
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
  return typedKey(resolvePlainScalar(text), text, node, path);
}

function typedKey(r: Resolved, text: string, node: Node | null, path: PathSegment[]): string {
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
}

function scalarValue(node: Scalar, path: PathSegment[]): JsonValue {
  const tag = node.tag;
  const text = String(node.value);
  if (tag === undefined)
    return node.type === 'PLAIN' ? typedValue(resolvePlainScalar(text), node, path) : text;
  // The yaml library has already decoded !!binary to bytes (decoding its text again gave garbage).
  if (tag === BINARY)
    return node.value instanceof Uint8Array
      ? Buffer.from(node.value).toString('utf8')
      : Buffer.from(text.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (TYPED.has(tag)) return taggedValue(tag, text, node, path);
  // !!str, !!timestamp, and tags Kubernetes does not know all leave the text as it is.
  return text;
}

/** A scalar tagged !!int, !!float, !!bool or !!null: its text must resolve to that type. */
function taggedValue(tag: string, text: string, node: Scalar, path: PathSegment[]): JsonValue {
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

function typedValue(r: Resolved, node: Scalar, path: PathSegment[]): JsonValue {
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
}

function unsafeInteger(node: Node, path: PathSegment[]): never {
  return fail(
    'unrepresentable',
    node,
    `the integer at ${formatPath(path)} is beyond ±2^53 and would lose precision`,
    'use a smaller number, or quote it if the field takes a string',
  );
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
function setKey(out: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}
