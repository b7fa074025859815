/**
 * Secret material of a commit, and the masker that keeps it out of messages. Secrets never
 * appear in logs, diffs, errors or the audit log, and errors quote manifest content: a YAML
 * error names an alias (`*S3CR3T`), kustomize echoes a literal it cannot read, the API server
 * echoes an invalid key or value. Every message built from a commit therefore passes through
 * the commit's masker, which replaces each secret value with "***".
 *
 * The material is found by a tolerant scan, because the files that fail are exactly the ones
 * that do not parse: values under `data:` and `stringData:` of every document whose kind is
 * Secret (read line by line, by indentation, and, when the commit did not load, with the
 * `yaml` library's error-tolerant tree too), kustomize secretGenerator literals, the files and
 * env files generators read, and the Secret objects of a rendered or loaded commit. Each value is hidden in the forms a
 * message may quote it in: as written, unquoted, JSON-escaped, line by line, base64-encoded,
 * and decoded when it is base64. Pure: data in, data out.
 */
import { posix } from 'node:path';
import { isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments } from 'yaml';
import type { Node } from 'yaml';
import { isRecord } from '../util/object.ts';
import type { SourceFile } from './types.ts';

/** Replaces every secret value found in a text with "***". */
export type Masker = (text: string) => string;

export const MASKED = '***';

/** Masks nothing: for callers without a commit at hand. */
export const noMasking: Masker = (text) => text;

/** Values shorter than this are not masked: "a" or "1" would mangle every message. */
export const MIN_SECRET_LENGTH = 4;
/** Values shorter than this are masked only as whole words (not inside longer words). */
const WHOLE_WORD_BELOW = 8;
/** Files larger than this are only scanned line by line, not parsed. */
const MAX_PARSED_BYTES = 4 * 1024 * 1024;

const KUSTOMIZATION_FILES = new Set(['kustomization.yaml', 'kustomization.yml', 'Kustomization']);
const MANIFEST_FILE = /\.(ya?ml|json)$/i;
/** Keys a Secret (or a ConfigMap) accepts; any other key is likely a pasted value. */
const VALID_DATA_KEY = /^[-._a-zA-Z0-9]+$/;
const SECRET_KIND = /\bkind["']?\s*:\s*(?:!\S*\s+)?["']?Secret(?=["'\s,}#]|$)/m;
const GENERATOR_KIND = /\bkind["']?\s*:\s*(?:!\S*\s+)?["']?SecretGenerator(?=["'\s,}#]|$)/m;

/**
 * A masker for the commit's files (all of them: generators read files outside the app's
 * directory) and, when known, its objects (loaded or rendered manifests). The files are
 * scanned now and only the values are kept, so a long-lived masker (the agent keeps one per
 * commit in force) does not hold the files.
 */
export function secretMasker(
  files: readonly SourceFile[],
  objects: readonly unknown[] = [],
  extra: Iterable<string> = [],
): Masker {
  return maskerOf(secretMaterial(files, objects, extra));
}

/** A masker hiding exactly these values (and nothing shorter than MIN_SECRET_LENGTH). */
export function maskerOf(material: Iterable<string>): Masker {
  const values = [...new Set(material)]
    .filter((v) => v.length >= MIN_SECRET_LENGTH && /[\p{L}\p{N}]/u.test(v) && !/^\*+$/.test(v))
    // Longest first, so that a value containing another is replaced whole.
    .sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  if (values.length === 0) return noMasking;
  return (text) => {
    let out = text;
    for (const value of values) {
      // A substring search per value: cheap for the few short texts that need masking, and
      // nothing to compile for a commit whose masker is never used.
      if (!out.includes(value)) continue;
      out =
        value.length < WHOLE_WORD_BELOW
          ? out.replace(wholeWord(value), MASKED)
          : out.split(value).join(MASKED);
    }
    return out;
  };
}

function wholeWord(value: string): RegExp {
  const quoted = value.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  return new RegExp(`(?<![\\p{L}\\p{N}])${quoted}(?![\\p{L}\\p{N}])`, 'gu');
}

/** Every secret value of the commit, in every form a message may quote it in. */
export function secretMaterial(
  files: readonly SourceFile[],
  objects: readonly unknown[] = [],
  extra: Iterable<string> = [],
): Set<string> {
  const out = new Set<string>();
  const byPath = new Map(files.map((f) => [f.path, f]));
  // Objects that loaded hold the exact values of every Secret that parsed: the line scan is
  // enough for the rest. Without them (the commit did not load), the YAML library reads too.
  const parse = objects.length === 0;
  for (const file of files) {
    const name = posix.basename(file.path);
    const isKustomization = KUSTOMIZATION_FILES.has(name);
    if (!isKustomization && !MANIFEST_FILE.test(name)) continue;
    // Most files name no Secret at all: skip them without decoding.
    if (
      !isKustomization &&
      !Buffer.from(file.content.buffer, file.content.byteOffset, file.content.byteLength).includes('Secret')
    )
      continue;
    const text = decode(file.content);
    for (const doc of splitDocuments(text)) {
      if (SECRET_KIND.test(doc))
        secretDocument(doc, parse && file.content.byteLength <= MAX_PARSED_BYTES, out);
      if (!isKustomization && !GENERATOR_KIND.test(doc)) continue;
      for (const ref of generatorDocument(doc, isKustomization, out)) {
        const target = byPath.get(posix.normalize(posix.join(posix.dirname(file.path), ref.path)));
        // No such file: the entry may be a value written where a path belongs (`files:
        // [password=S3cr3t]`), and kustomize quotes the path it cannot read.
        if (!target) addValue(out, ref.path);
        else if (ref.env) envFile(decode(target.content), out);
        else generatorFile(target.content, out);
      }
    }
  }
  for (const object of objects) secretObject(object, out);
  for (const v of extra) addValue(out, v);
  return out;
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder('utf-8').decode(bytes);
}

// --- forms of a value ---------------------------------------------------------------------

/**
 * Adds a value in the forms a message may quote: as it is, trimmed, each of its lines,
 * JSON-escaped (as Go's %q and JSON quote it), base64-encoded, and decoded when it is base64.
 */
function addValue(out: Set<string>, value: string, decodeBase64 = true): void {
  const forms = new Set([value, value.trim()]);
  if (value.includes('\n')) for (const line of value.split(/\r?\n/)) forms.add(line.trim());
  for (const form of forms) {
    if (form.length < MIN_SECRET_LENGTH) continue;
    out.add(form);
    const escaped = JSON.stringify(form).slice(1, -1);
    if (escaped !== form) out.add(escaped);
  }
  if (value.trim().length >= MIN_SECRET_LENGTH) out.add(Buffer.from(value, 'utf8').toString('base64'));
  if (decodeBase64) {
    const decoded = fromBase64(value);
    if (decoded !== undefined) addValue(out, decoded, false);
  }
}

/** The text a base64 value encodes, when it is base64 of UTF-8 text. */
function fromBase64(value: string): string | undefined {
  const compact = value.replace(/\s+/g, '');
  if (compact.length < MIN_SECRET_LENGTH || compact.length % 4 !== 0) return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(compact, 'base64'));
    // Binary data, or text that only happens to be base64: nothing a message would quote.
    // eslint-disable-next-line no-control-regex -- matching them is the point
    return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}

/**
 * The candidate values of one raw YAML scalar as written on a line: with and without its
 * quotes, comment, anchor, tag and alias star, and the anchor, tag or alias name itself.
 */
function addRawScalar(out: Set<string>, raw: string): void {
  let s = raw.trim();
  if (s.endsWith(',')) s = s.slice(0, -1).trimEnd();
  if (s === '' || /^[|>][-+0-9]*$/.test(s)) return;
  addValue(out, s);
  const uncommented = s.replace(/\s+#.*$/, '');
  if (uncommented !== s) addValue(out, uncommented);
  s = uncommented;
  // Properties: &anchor, !tag, and an alias *name; the names can be the pasted value too.
  for (let m = /^([&!*])(\S*)\s*/.exec(s); m; m = /^([&!*])(\S*)\s*/.exec(s)) {
    if (!isStandardTag(`${m[1]}${m[2]}`)) addValue(out, m[2]!.replace(/^<|>$/g, ''));
    s = s.slice(m[0].length);
  }
  if (s === '') return;
  addValue(out, s);
  const quote = s[0];
  if (quote === '"' || quote === "'") {
    const end = quote === '"' ? closingDoubleQuote(s) : closingSingleQuote(s);
    const inner = s.slice(1, end === -1 ? undefined : end);
    addValue(out, inner);
    if (quote === "'") addValue(out, inner.replace(/''/g, "'"));
    else if (end !== -1) {
      try {
        const parsed: unknown = JSON.parse(`"${inner}"`);
        if (typeof parsed === 'string') addValue(out, parsed);
      } catch {
        // YAML escapes JSON lacks (\x41, \e): the inner text is hidden as written.
      }
    }
  }
}

function closingDoubleQuote(s: string): number {
  for (let i = 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  return -1;
}

function closingSingleQuote(s: string): number {
  for (let i = 1; i < s.length; i++) {
    if (s[i] === "'") {
      if (s[i + 1] === "'") i++;
      else return i;
    }
  }
  return -1;
}

// --- Secret documents ------------------------------------------------------------------------

/** Documents of a YAML stream, split on `---` lines, without parsing (they may not parse). */
function splitDocuments(text: string): string[] {
  return text.split(/^(?:---|\.\.\.)(?=\s|$)/m);
}

/** Values and odd keys under `data:` and `stringData:` of a document whose kind is Secret. */
function secretDocument(doc: string, parse: boolean, out: Set<string>): void {
  if (parse) parsedSecretDocument(doc, out);
  for (const block of blocksOf(doc, /^(?:data|stringData)$/)) {
    for (const line of block.lines) dataLine(line, out);
  }
  for (const flow of flowMapsAfter(doc, /["']?\b(?:data|stringData)["']?\s*:\s*\{/g))
    for (const entry of flowEntries(flow)) dataLine(entry, out);
}

/** The same from the `yaml` library's tree, which it builds even for documents with errors. */
function parsedSecretDocument(doc: string, out: Set<string>): void {
  try {
    for (const parsed of parseAllDocuments(doc, { schema: 'failsafe', uniqueKeys: false })) {
      visitPairs(parsed.contents, 0, (key, value) => {
        if (key === 'data' || key === 'stringData') collectNode(value, out, 0);
      });
    }
  } catch {
    // The line scan covers what the library could not read.
  }
}

const MAX_WALK_DEPTH = 64;

/** Calls `onPair` for every mapping entry with a scalar key, at any depth. */
function visitPairs(node: unknown, depth: number, onPair: (key: string, value: unknown) => void): void {
  if (depth > MAX_WALK_DEPTH) return;
  if (isMap(node)) {
    for (const pair of node.items) {
      if (isScalar(pair.key)) onPair(String(pair.key.value), pair.value);
      visitPairs(pair.value, depth + 1, onPair);
    }
  } else if (isSeq(node)) {
    for (const item of node.items) visitPairs(item, depth + 1, onPair);
  }
}

/** Every scalar under a node, odd keys included, with aliases by name. */
function collectNode(node: unknown, out: Set<string>, depth: number): void {
  if (depth > MAX_WALK_DEPTH || node === null || node === undefined) return;
  if (isScalar(node)) {
    addValue(out, String(node.value));
    if (typeof node.source === 'string') addValue(out, node.source);
    addProperties(node, out);
  } else if (isAlias(node)) {
    addValue(out, node.source);
  } else if (isMap(node)) {
    addProperties(node, out);
    for (const pair of node.items) {
      if (isScalar(pair.key)) {
        const key = String(pair.key.value);
        if (!VALID_DATA_KEY.test(key)) addOddKey(out, key);
      } else collectNode(pair.key, out, depth + 1);
      collectNode(pair.value, out, depth + 1);
    }
  } else if (isSeq(node)) {
    for (const item of node.items) collectNode(item, out, depth + 1);
  } else if (isPair(node)) {
    collectNode(node.value, out, depth + 1);
  }
}

/** A node's anchor and tag: a value pasted after `&` or `!` becomes one. */
function addProperties(node: Node, out: Set<string>): void {
  if (node.anchor) addValue(out, node.anchor);
  if (node.tag && !isStandardTag(node.tag)) addValue(out, node.tag.replace(/^!/, ''));
}

/** `!!binary`, `!!str`, `tag:yaml.org,2002:...`: YAML's own tags, never a pasted value. */
function isStandardTag(tag: string): boolean {
  return (
    tag.startsWith('!!') || tag.startsWith('tag:yaml.org,2002:') || tag.startsWith('!<tag:yaml.org,2002:')
  );
}

/** One line (or flow entry) of a data block: `key: value`, or the continuation of a value. */
function dataLine(line: string, out: Set<string>): void {
  const t = line.trim().replace(/^(?:-\s+)+/, '');
  if (t === '' || t.startsWith('#')) return;
  const pair = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s"'#][^:#]*?)\s*:(?:\s+(.*))?$/.exec(t);
  if (!pair) {
    addRawScalar(out, t);
    return;
  }
  const key = unquote(pair[1]!);
  if (!VALID_DATA_KEY.test(key)) addOddKey(out, key);
  if (pair[2] !== undefined) addRawScalar(out, pair[2]);
}

/**
 * A key no Secret may have (`PASSWORD: value`, `token value`) is a value pasted where a key
 * belongs: hidden whole, and what follows its first space, colon or equals sign.
 */
function addOddKey(out: Set<string>, key: string): void {
  addValue(out, key);
  const sep = /[\s:=]+/.exec(key);
  if (sep && sep.index > 0) addRawScalar(out, key.slice(sep.index + sep[0].length));
}

function unquote(s: string): string {
  if (s.length >= 2 && (s[0] === '"' || s[0] === "'") && s.endsWith(s[0])) return s.slice(1, -1);
  return s;
}

/** A key's block: the text after `key:` on its line and the lines nested under it. */
interface Block {
  rest: string;
  lines: string[];
}

/**
 * Every block of a key matching `name`, found by indentation: the lines after `key:` that are
 * indented deeper than the key, or as deep and starting a sequence item (YAML allows
 * `key:\n- item` at the key's own indentation). Blank and comment lines stay in the block.
 */
function blocksOf(text: string, name: RegExp): Block[] {
  const lines = text.split(/\r?\n/);
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^((?:\s*-\s+)*\s*)(["']?)([^\s"':#][^"':#]*?)\2\s*:(?:\s+(.*)|$)/.exec(lines[i]!);
    if (!m || !name.test(m[3]!)) continue;
    const column = m[1]!.length;
    const block: Block = { rest: m[4] ?? '', lines: [] };
    if (block.rest !== '') block.lines.push(block.rest);
    for (let j = i + 1; j < lines.length; j++) {
      const line = lines[j]!;
      const indent = line.length - line.trimStart().length;
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      if (indent > column || (indent === column && /^-(\s|$)/.test(trimmed))) block.lines.push(line);
      else break;
    }
    blocks.push(block);
  }
  return blocks;
}

/** The text of each flow mapping `{...}` that `start` (ending at its `{`) introduces. */
function flowMapsAfter(text: string, start: RegExp): string[] {
  const maps: string[] = [];
  for (const m of text.matchAll(start)) {
    const open = m.index + m[0].length - 1;
    maps.push(text.slice(open + 1, closingBracket(text, open)));
  }
  return maps;
}

/** Index of the bracket closing the one at `open` (quotes respected), or the text's end. */
function closingBracket(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '"') i = skipQuoted(text, i, '"');
    else if (c === "'") i = skipQuoted(text, i, "'");
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return text.length;
}

function skipQuoted(text: string, i: number, quote: string): number {
  for (let j = i + 1; j < text.length; j++) {
    if (quote === '"' && text[j] === '\\') j++;
    else if (text[j] === quote) return j;
  }
  return text.length;
}

/** The top-level entries of a flow collection's inner text, split on commas. */
function flowEntries(inner: string): string[] {
  const entries: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '"') i = skipQuoted(inner, i, '"');
    else if (c === "'") i = skipQuoted(inner, i, "'");
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth <= 0) {
      entries.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  entries.push(inner.slice(start));
  return entries.map((e) => e.replace(/\s+/g, ' ').trim()).filter((e) => e !== '');
}

// --- kustomize secret generators ------------------------------------------------------------

interface GeneratorRef {
  path: string;
  env: boolean;
}

/**
 * Literals of kustomize secret generators (a kustomization's `secretGenerator` entries, or a
 * `kind: SecretGenerator` document), and the files and env files they read.
 */
function generatorDocument(doc: string, isKustomization: boolean, out: Set<string>): GeneratorRef[] {
  const refs: GeneratorRef[] = [];
  const sections = isKustomization
    ? blocksOf(doc, /^secretGenerator$/).map((b) => b.lines.join('\n'))
    : [doc];
  for (const section of sections) generatorSection(section, out, refs);
  if (isKustomization) parsedGenerators(doc, out, refs);
  return refs;
}

/** Line scan of generator entries: literals, files, envs and env. */
function generatorSection(text: string, out: Set<string>, refs: GeneratorRef[]): void {
  const items = (key: RegExp) =>
    blocksOf(text, key).flatMap((b) =>
      b.rest.startsWith('[')
        ? flowEntries(b.rest.slice(1, closingBracket(b.rest, 0)))
        : b.lines.map((l) => l.trim().replace(/^-\s*/, '')).filter((l) => l !== '' && !l.startsWith('#')),
    );
  for (const literal of items(/^literals$/)) addLiteral(out, literal);
  for (const item of items(/^files$/)) refs.push({ path: filePathOf(stripScalar(item)), env: false });
  for (const item of items(/^envs?$/)) refs.push({ path: stripScalar(item), env: true });
}

/** The generators read with the `yaml` library, when the kustomization parses well enough. */
function parsedGenerators(doc: string, out: Set<string>, refs: GeneratorRef[]): void {
  try {
    for (const parsed of parseAllDocuments(doc, { schema: 'failsafe', uniqueKeys: false })) {
      const root = parsed.contents;
      if (!isMap(root)) continue;
      for (const pair of root.items) {
        if (!isScalar(pair.key) || pair.key.value !== 'secretGenerator' || !isSeq(pair.value)) continue;
        for (const generator of pair.value.items) {
          if (!isMap(generator)) continue;
          for (const entry of generator.items) {
            const key = isScalar(entry.key) ? String(entry.key.value) : '';
            for (const value of scalarsOf(entry.value)) {
              if (key === 'literals') addLiteral(out, value);
              else if (key === 'files') refs.push({ path: filePathOf(value), env: false });
              else if (key === 'envs' || key === 'env') refs.push({ path: value, env: true });
            }
          }
        }
      }
    }
  } catch {
    // The line scan covers it.
  }
}

function scalarsOf(node: unknown): string[] {
  if (isScalar(node)) return [String(node.value)];
  if (isSeq(node)) return node.items.flatMap((item) => (isScalar(item) ? [String(item.value)] : []));
  return [];
}

/** A literal source `key=value` (value maybe quoted): the value; without `=`, all of it. */
function addLiteral(out: Set<string>, literal: string): void {
  const text = stripScalar(literal);
  const eq = text.indexOf('=');
  if (eq === -1) addRawScalar(out, literal);
  else addRawScalar(out, text.slice(eq + 1));
}

/** `key=path` or `path` of a generator's files entry: the path. */
function filePathOf(entry: string): string {
  const eq = entry.indexOf('=');
  return eq === -1 ? entry : entry.slice(eq + 1);
}

/** A scalar as written on a line, without quotes and comment. */
function stripScalar(raw: string): string {
  const s = raw.trim().replace(/\s+#.*$/, '');
  return unquote(s);
}

/**
 * An env file a generator reads: the value of each `KEY=VALUE` line, and every line without
 * `=` whole (kustomize takes it for a key, and the API server quotes an invalid key), with
 * what follows its first space or colon (`PASSWORD: value` pasted from YAML).
 */
function envFile(text: string, out: Set<string>): void {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    addValue(out, line);
    const eq = line.indexOf('=');
    if (eq !== -1) {
      addRawScalar(out, line.slice(eq + 1));
      continue;
    }
    addOddKey(out, line);
  }
}

/** A file a generator turns into one Secret value: all of it, its lines, and its base64. */
function generatorFile(content: Uint8Array, out: Set<string>): void {
  out.add(Buffer.from(content).toString('base64'));
  const text = decode(content);
  addValue(out, text);
}

// --- objects ----------------------------------------------------------------------------------

/** Values and odd keys of a Secret object (or of the Secrets in a List). */
function secretObject(object: unknown, out: Set<string>, depth = 0): void {
  if (!isRecord(object) || depth > 2) return;
  const manifest = isRecord(object['object']) ? object['object'] : object;
  if (Array.isArray(manifest['items']))
    for (const item of manifest['items']) secretObject(item, out, depth + 1);
  if (manifest['kind'] !== 'Secret') return;
  for (const field of ['data', 'stringData']) {
    const map = manifest[field];
    if (!isRecord(map)) continue;
    for (const [key, value] of Object.entries(map)) {
      if (!VALID_DATA_KEY.test(key)) addOddKey(out, key);
      if (typeof value === 'string') addValue(out, value);
    }
  }
}

// --- errors -------------------------------------------------------------------------------------

/** Error properties that hold text a message was built from. */
const TEXT_PROPERTIES = ['message', 'stack', 'detail', 'hint'] as const;
/** Error properties that hold the errors or results a message lists. */
const LIST_PROPERTIES = ['errors', 'causes', 'results'] as const;

/**
 * Masks an error in place and returns it: its message, stack, detail and hint, the errors it
 * gathers (ManifestErrors, CommitRejectedError, PlanErrors), the API server's causes, the
 * messages of the results it carries, and its cause, recursively. The class, identity fields
 * (ids, locations) and everything else stay, so callers still tell errors apart.
 */
export function maskError<E>(e: E, mask: Masker, seen: WeakSet<object> = new WeakSet()): E {
  if (mask === noMasking || typeof e !== 'object' || e === null || seen.has(e)) return e;
  seen.add(e);
  const target = e as Record<string, unknown>;
  for (const key of TEXT_PROPERTIES) {
    const value = target[key];
    if (typeof value === 'string') rewrite(target, key, mask(value));
  }
  for (const key of LIST_PROPERTIES) {
    const list = target[key];
    if (!Array.isArray(list)) continue;
    rewrite(
      target,
      key,
      list.map((item: unknown) => {
        if (typeof item === 'string') return mask(item);
        if (item instanceof Error) return maskError(item, mask, seen);
        if (!isRecord(item)) return item;
        // A result ({message, error}) or an API cause ({reason, message, field}).
        const copy = { ...item };
        for (const k of ['message', 'field']) if (typeof copy[k] === 'string') copy[k] = mask(copy[k]);
        if (copy['error'] instanceof Error) maskError(copy['error'], mask, seen);
        return copy;
      }),
    );
  }
  if (target['cause'] instanceof Error) maskError(target['cause'], mask, seen);
  return e;
}

/** Sets a property even when the class declared it readonly (that is a compile-time rule). */
function rewrite(target: Record<string, unknown>, key: string, value: unknown): void {
  if (target[key] === value) return;
  const own = Object.getOwnPropertyDescriptor(target, key);
  if (own && !own.writable && !own.set) {
    if (!own.configurable) return;
    Object.defineProperty(target, key, { ...own, value });
  } else target[key] = value;
}
