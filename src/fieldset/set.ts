/**
 * FieldSet: an immutable set of paths, stored as a trie. Each node has `members` (child
 * elements whose path is in the set) and `children` (child elements with members below
 * them). A path can be both: a list item that is owned and has owned fields.
 */
import { ManagedFieldsError } from './errors.ts';
import { elementFromFieldsV1Key, elementToFieldsV1Key } from './fieldsv1.ts';
import { isPlainObject } from './json.ts';
import type { Path, PathElement } from './path.ts';
import { compareElements, elementKey, formatPath } from './path.ts';

type Child = { element: PathElement; set: FieldSet };

export class FieldSet {
  // Keyed by elementKey(element).
  readonly #members = new Map<string, PathElement>();
  readonly #children = new Map<string, Child>();

  static empty(): FieldSet {
    return new FieldSet();
  }

  static fromPaths(paths: Iterable<Path>): FieldSet {
    const set = new FieldSet();
    for (const p of paths) set.#insert(p);
    return set;
  }

  /** Parses a fieldsV1 trie. Throws ManagedFieldsError when it is not one. */
  static fromFieldsV1(json: unknown): FieldSet {
    return FieldSet.#fromTrie(json, []);
  }

  static #fromTrie(json: unknown, at: Path): FieldSet {
    if (!isPlainObject(json)) {
      throw new ManagedFieldsError(`invalid fieldsV1 under ${formatPath(at)}: expected a JSON object`, {
        hint: 'managedFields must be as the API server writes them (fieldsType FieldsV1)',
      });
    }
    const set = new FieldSet();
    for (const [k, v] of Object.entries(json)) {
      if (k === '.') continue; // handled by the parent
      const element = elementFromFieldsV1Key(k, at);
      if (!isPlainObject(v)) {
        throw new ManagedFieldsError(
          `invalid fieldsV1 under ${formatPath(at)}: value of ${JSON.stringify(k)} is not an object`,
        );
      }
      const entries = Object.keys(v);
      const key = elementKey(element);
      if (entries.length === 0 || Object.hasOwn(v, '.')) set.#members.set(key, element);
      const child = FieldSet.#fromTrie(v, [...at, element]);
      if (!child.isEmpty()) set.#children.set(key, { element, set: child });
    }
    return set;
  }

  /** The fieldsV1 trie of this set, with keys in element order and `"."` first. */
  toFieldsV1(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, element] of this.#sortedKeys()) {
      const child = this.#children.get(key);
      if (child === undefined) {
        out[elementToFieldsV1Key(element)] = {};
      } else {
        const sub = child.set.toFieldsV1();
        out[elementToFieldsV1Key(element)] = this.#members.has(key) ? { '.': {}, ...sub } : sub;
      }
    }
    return out;
  }

  #sortedKeys(): [string, PathElement][] {
    const all = new Map<string, PathElement>(this.#members);
    for (const [k, c] of this.#children) all.set(k, c.element);
    return [...all].sort((a, b) => compareElements(a[1], b[1]));
  }

  #insert(path: Path): void {
    const [head, ...rest] = path;
    if (head === undefined) return; // the empty path is never a member
    const key = elementKey(head);
    if (rest.length === 0) {
      this.#members.set(key, head);
      return;
    }
    let child = this.#children.get(key);
    if (child === undefined) {
      child = { element: head, set: new FieldSet() };
      this.#children.set(key, child);
    }
    child.set.#insert(rest);
  }

  /** Whether `path` itself is a member. */
  has(path: Path): boolean {
    const [head, ...rest] = path;
    if (head === undefined) return false;
    const key = elementKey(head);
    if (rest.length === 0) return this.#members.has(key);
    return this.#children.get(key)?.set.has(rest) ?? false;
  }

  /** The members below `path`, with `path` removed from their front (empty if none). */
  at(path: Path): FieldSet {
    const [head, ...rest] = path;
    if (head === undefined) return this;
    const child = this.#children.get(elementKey(head));
    return child === undefined ? new FieldSet() : child.set.at(rest);
  }

  /** Whether `path` is a member or has a member below it. */
  hasPrefix(path: Path): boolean {
    return this.has(path) || (path.length > 0 && !this.at(path).isEmpty());
  }

  union(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.#members) out.#members.set(k, pe);
    for (const [k, pe] of other.#members) out.#members.set(k, pe);
    for (const [k, c] of this.#children) out.#children.set(k, c);
    for (const [k, c] of other.#children) {
      const mine = out.#children.get(k);
      out.#children.set(k, mine === undefined ? c : { element: c.element, set: mine.set.union(c.set) });
    }
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.#members) if (other.#members.has(k)) out.#members.set(k, pe);
    for (const [k, c] of this.#children) {
      const theirs = other.#children.get(k);
      if (theirs === undefined) continue;
      const sub = c.set.intersection(theirs.set);
      if (!sub.isEmpty()) out.#children.set(k, { element: c.element, set: sub });
    }
    return out;
  }

  /** Paths in this set and not in `other` (path by path: removing a path keeps its descendants). */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.#members) if (!other.#members.has(k)) out.#members.set(k, pe);
    for (const [k, c] of this.#children) {
      const theirs = other.#children.get(k);
      const sub = theirs === undefined ? c.set : c.set.difference(theirs.set);
      if (!sub.isEmpty()) out.#children.set(k, { element: c.element, set: sub });
    }
    return out;
  }

  equals(other: FieldSet): boolean {
    return this.difference(other).isEmpty() && other.difference(this).isEmpty();
  }

  isEmpty(): boolean {
    return this.#members.size === 0 && this.#children.size === 0;
  }

  /** Number of members. */
  get size(): number {
    let n = this.#members.size;
    for (const c of this.#children.values()) n += c.set.size;
    return n;
  }

  /** Every member, parents before children, siblings in element order. */
  paths(): Path[] {
    const out: Path[] = [];
    this.#walk([], (p, isMember) => {
      if (isMember) out.push(p);
    });
    return out;
  }

  /** Members with no member below them: the values to compare (an owned list item is not a leaf). */
  leaves(): Path[] {
    const out: Path[] = [];
    this.#walk([], (p, isMember, hasChildren) => {
      if (isMember && !hasChildren) out.push(p);
    });
    return out;
  }

  #walk(prefix: Path, visit: (p: Path, isMember: boolean, hasChildren: boolean) => void): void {
    for (const [key, element] of this.#sortedKeys()) {
      const p = [...prefix, element];
      const child = this.#children.get(key);
      visit(p, this.#members.has(key), child !== undefined);
      if (child !== undefined) child.set.#walk(p, visit);
    }
  }

  /** Display form, one path per line, for debugging and test messages. */
  toString(): string {
    return this.paths().map(formatPath).join('\n');
  }
}
