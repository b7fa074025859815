/**
 * Field paths: the data model and the display format every Tether output uses.
 *
 * A path is a list of elements, one per step into an object:
 * - `{ field }`  a struct field or map key                      `.spec`, `["app.kubernetes.io/name"]`
 * - `{ key }`    an item of an associative list, by its key fields `[name=web]`, `[containerPort=80,protocol=TCP]`
 * - `{ value }`  an item of a set-like list of scalars            `[=finalizer.example.com]`
 * - `{ index }`  a position in an atomic (or untyped) list        `[3]`
 *
 * Display format (formatPath / parsePath round-trip):
 * - A field whose name matches `[A-Za-z_][A-Za-z0-9_-]*` is written `.name`; any other name
 *   (empty, starting with a digit or `-`, or containing any other character) is written
 *   `["name"]` with JSON string escaping, and no leading dot.
 * - Key items are `[k1=v1,k2=v2]` with the key fields in the order of the key object (the
 *   API server writes them sorted by name). Key names follow the field-name rule (bare or
 *   JSON-quoted). Values follow the value rule below.
 * - Set items are `[=value]`; list positions are `[N]`.
 * - Value rule: a string is written bare when it matches `[A-Za-z0-9_./:@+~-]+` and would not
 *   read back as a JSON number, `true`, `false` or `null`; every other value (such strings,
 *   numbers, booleans, null, objects, arrays) is written as JSON (objects with sorted keys).
 *   So `[port=80]` is the number 80, `[port="80"]` the string "80", `[mountPath=/data]` a string.
 * - The empty path is written `.`.
 *
 * parsePath also accepts a path that leaves out the leading dot (`spec.replicas`).
 */
import { FieldPathError } from './errors.ts';
import { canonicalJson, deepEqual } from './json.ts';

export type FieldElement = { field: string };
export type KeyElement = { key: Record<string, unknown> };
export type ValueElement = { value: unknown };
export type IndexElement = { index: number };
export type PathElement = FieldElement | KeyElement | ValueElement | IndexElement;
export type Path = PathElement[];

/** `[*]` (any list item) or `.*` (any field) in an ignore pattern. */
export type Wildcard = { any: 'item' | 'field' };
export type PatternElement = PathElement | Wildcard;
export type PathPattern = PatternElement[];

export function isFieldElement(pe: PatternElement): pe is FieldElement {
  return 'field' in pe;
}
export function isKeyElement(pe: PatternElement): pe is KeyElement {
  return 'key' in pe;
}
export function isValueElement(pe: PatternElement): pe is ValueElement {
  return 'value' in pe;
}
export function isIndexElement(pe: PatternElement): pe is IndexElement {
  return 'index' in pe;
}
/** Key, value and index elements name a list item; field elements do not. */
export function isListItemElement(pe: PathElement): boolean {
  return !isFieldElement(pe);
}

/**
 * The element as a fieldsV1 object key (`f:name`, `k:{...}`, `v:...`, `i:N`), with key
 * fields and object values in sorted order: one spelling per element, so it is also the
 * element's identity in a FieldSet.
 */
export function elementKey(pe: PathElement): string {
  if (isFieldElement(pe)) return `f:${pe.field}`;
  if (isKeyElement(pe)) return `k:${canonicalJson(pe.key)}`;
  if (isValueElement(pe)) return `v:${canonicalJson(pe.value)}`;
  return `i:${pe.index}`;
}

const RANK = { f: 0, k: 1, v: 2, i: 3 } as const;

/** Total order of elements: fields (by name), then keys, then values, then indexes (numeric). */
export function compareElements(a: PathElement, b: PathElement): number {
  const ka = elementKey(a);
  const kb = elementKey(b);
  const ra = RANK[ka[0] as keyof typeof RANK];
  const rb = RANK[kb[0] as keyof typeof RANK];
  if (ra !== rb) return ra - rb;
  if (isIndexElement(a) && isIndexElement(b)) return a.index - b.index;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export function elementsEqual(a: PathElement, b: PathElement): boolean {
  return elementKey(a) === elementKey(b);
}

export function pathsEqual(a: Path, b: Path): boolean {
  return a.length === b.length && a.every((pe, i) => elementsEqual(pe, b[i] as PathElement));
}

/** True when `prefix` is `path` itself or one of its ancestors. */
export function isPrefixOf(prefix: Path, path: Path): boolean {
  return prefix.length <= path.length && prefix.every((pe, i) => elementsEqual(pe, path[i] as PathElement));
}

// ---------------------------------------------------------------------------------------------
// Formatting

const SIMPLE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const BARE_VALUE = /^[A-Za-z0-9_./:@+~-]+$/;
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function readsAsJsonLiteral(s: string): boolean {
  return s === 'true' || s === 'false' || s === 'null' || JSON_NUMBER.test(s);
}

function formatName(name: string): string {
  return SIMPLE_NAME.test(name) ? name : JSON.stringify(name);
}

/** A key or set value as written inside `[...]`. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string' && BARE_VALUE.test(value) && !readsAsJsonLiteral(value)) return value;
  return canonicalJson(value);
}

export function formatElement(pe: PatternElement): string {
  if ('any' in pe) return pe.any === 'item' ? '[*]' : '.*';
  if (isFieldElement(pe)) {
    if (SIMPLE_NAME.test(pe.field)) return `.${pe.field}`;
    return `[${JSON.stringify(pe.field)}]`;
  }
  if (isKeyElement(pe)) {
    const parts = Object.entries(pe.key).map(([k, v]) => `${formatName(k)}=${formatValue(v)}`);
    return `[${parts.join(',')}]`;
  }
  if (isValueElement(pe)) return `[=${formatValue(pe.value)}]`;
  return `[${pe.index}]`;
}

/** `.spec.template.spec.containers[name=web].image`; the empty path is `.`. */
export function formatPath(path: Path | PathPattern): string {
  if (path.length === 0) return '.';
  return path.map(formatElement).join('');
}

// ---------------------------------------------------------------------------------------------
// Parsing

class Parser {
  readonly text: string;
  readonly wildcards: boolean;
  pos = 0;
  constructor(text: string, wildcards: boolean) {
    this.text = text;
    this.wildcards = wildcards;
  }

  fail(expected: string): never {
    const what = this.pos >= this.text.length ? 'end of text' : JSON.stringify(this.text[this.pos]);
    throw new FieldPathError(
      `invalid field path ${JSON.stringify(this.text)}: expected ${expected} at column ${this.pos + 1}, found ${what}`,
      {
        hint: 'write paths like .spec.replicas, .spec.template.spec.containers[name=web].image or .metadata.labels["app.kubernetes.io/name"]',
      },
    );
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  expect(ch: string): void {
    if (this.peek() !== ch) this.fail(JSON.stringify(ch));
    this.pos++;
  }

  parse(): PathPattern {
    const out: PathPattern = [];
    if (this.text === '.' || this.text === '') return out;
    // Leniency: "spec.replicas" means ".spec.replicas".
    if (/^[A-Za-z_]/.test(this.text)) out.push(this.simpleName());
    while (this.pos < this.text.length) {
      const ch = this.peek();
      if (ch === '.') {
        this.pos++;
        if (this.wildcards && this.peek() === '*') {
          this.pos++;
          out.push({ any: 'field' });
        } else {
          out.push(this.simpleName());
        }
      } else if (ch === '[') {
        this.pos++;
        out.push(this.bracket());
      } else {
        this.fail('"." or "["');
      }
    }
    return out;
  }

  simpleName(): FieldElement {
    const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.text.slice(this.pos));
    if (!m) this.fail('a field name (or ["..."] for other names)');
    this.pos += m[0].length;
    return { field: m[0] };
  }

  bracket(): PatternElement {
    const ch = this.peek();
    if (ch === '"') {
      const name = this.jsonString();
      if (this.peek() === ']') {
        this.pos++;
        return { field: name };
      }
      return this.keyFields(name);
    }
    if (ch === '=') {
      this.pos++;
      const value = this.value();
      this.expect(']');
      return { value };
    }
    if (ch !== undefined && ch >= '0' && ch <= '9') {
      const m = /^\d+/.exec(this.text.slice(this.pos));
      const digits = m?.[0] ?? '';
      this.pos += digits.length;
      this.expect(']');
      return { index: Number(digits) };
    }
    if (ch === '*' && this.wildcards) {
      this.pos++;
      this.expect(']');
      return { any: 'item' };
    }
    if (ch === ']') {
      this.pos++;
      return { key: {} };
    }
    return this.keyFields(this.simpleName().field);
  }

  keyFields(firstName: string): KeyElement {
    const key: Record<string, unknown> = {};
    let name = firstName;
    for (;;) {
      this.expect('=');
      if (Object.hasOwn(key, name)) this.fail(`a key field other than ${JSON.stringify(name)} (duplicate)`);
      key[name] = this.value();
      if (this.peek() === ']') {
        this.pos++;
        return { key };
      }
      this.expect(',');
      name = this.peek() === '"' ? this.jsonString() : this.simpleName().field;
    }
  }

  value(): unknown {
    const ch = this.peek();
    if (ch === '"') return this.jsonString();
    if (ch === '{' || ch === '[') {
      const start = this.pos;
      this.skipBalanced();
      try {
        return JSON.parse(this.text.slice(start, this.pos)) as unknown;
      } catch {
        this.pos = start;
        this.fail('a JSON value');
      }
    }
    const m = /^[^,\]]*/.exec(this.text.slice(this.pos));
    const token = m?.[0] ?? '';
    if (token === '' || !BARE_VALUE.test(token)) this.fail('a value (bare word or JSON)');
    this.pos += token.length;
    return readsAsJsonLiteral(token) ? (JSON.parse(token) as unknown) : token;
  }

  jsonString(): string {
    const start = this.pos;
    this.pos++; // opening quote
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === '\\') this.pos += 2;
      else if (c === '"') {
        this.pos++;
        try {
          return JSON.parse(this.text.slice(start, this.pos)) as string;
        } catch {
          this.pos = start;
          this.fail('a JSON string');
        }
      } else this.pos++;
    }
    this.pos = start;
    return this.fail('a closed JSON string');
  }

  skipBalanced(): void {
    let depth = 0;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === '"') {
        this.jsonString();
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') depth--;
      this.pos++;
      if (depth === 0) return;
    }
    this.fail('a closing bracket');
  }
}

/** Parses the display format written by formatPath. Throws FieldPathError naming the column. */
export function parsePath(text: string): Path {
  return new Parser(text, false).parse() as Path;
}

/** Like parsePath, and also accepts `[*]` (any list item) and `.*` (any field), for ignore rules. */
export function parsePathPattern(text: string): PathPattern {
  return new Parser(text, true).parse();
}

/** Whether a pattern element matches a path element. Key patterns match by subset of key fields. */
export function elementMatches(pattern: PatternElement, pe: PathElement): boolean {
  if ('any' in pattern) return pattern.any === 'item' ? isListItemElement(pe) : isFieldElement(pe);
  if (isFieldElement(pattern)) return isFieldElement(pe) && pe.field === pattern.field;
  if (isKeyElement(pattern)) {
    if (!isKeyElement(pe)) return false;
    return Object.entries(pattern.key).every(([k, v]) => Object.hasOwn(pe.key, k) && deepEqual(pe.key[k], v));
  }
  if (isValueElement(pattern)) return isValueElement(pe) && deepEqual(pe.value, pattern.value);
  return isIndexElement(pe) && pe.index === pattern.index;
}

/** True when the pattern matches `path` or one of its ancestors (a pattern covers a subtree). */
export function patternCovers(pattern: PathPattern, path: Path): boolean {
  return (
    pattern.length <= path.length && pattern.every((pe, i) => elementMatches(pe, path[i] as PathElement))
  );
}
