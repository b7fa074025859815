import type { Node } from 'yaml';
import { digestOf } from './canonical.ts';
import { injectConfigHashes } from './config-hash.ts';
import { bytePosition, decodeUtf8 } from './decode.ts';
import {
  DuplicateObjectError,
  EncodingError,
  InvalidObjectError,
  LimitExceededError,
  ManifestErrors,
  NamespaceNotAllowedError,
  formatLocation,
} from './errors.ts';
import type { ManifestError } from './errors.ts';
import { formatId, objectKey } from './identity.ts';
import { formatBytes, resolveLimits } from './limits.ts';
import { locateOffset } from './locate.ts';
import { parseFile } from './parse.ts';
import { maskError, secretMasker } from './secret-masking.ts';
import type { ParsedDocument, ParsedFile } from './parse.ts';
import type { PathSegment } from './path.ts';
import type { AliasTargets } from './to-json.ts';
import type {
  JsonValue,
  Limits,
  LoadOptions,
  Manifest,
  ObjectId,
  SourceFile,
  SourceLocation,
} from './types.ts';
import { validateObject } from './validate.ts';

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/** Files loadManifests reads; everything else in the tree is ignored. */
export function isManifestPath(path: string): boolean {
  return MANIFEST_FILE.test(path);
}

/** An object found in a document, before validation. */
interface Candidate {
  value: JsonValue;
  /** Where the object sits in its document: [] or ['items', i, ...]. */
  path: PathSegment[];
  source: SourceLocation;
}

/**
 * Parses, validates and identifies every manifest of a commit. Throws ManifestErrors with
 * every problem found, Secret values masked (errors quote manifest content: see
 * secret-masking.ts); returns objects sorted by file path, then position in the file.
 */
export function loadManifests(files: SourceFile[], opts: LoadOptions): Manifest[] {
  const { manifests, errors } = collectManifests(
    files.filter((f) => isManifestPath(f.path)),
    opts,
  );
  if (errors.length > 0) throw maskError(new ManifestErrors(opts.commit, errors), secretMasker(files));
  return manifests;
}

/** An object that passed validation, before its digest. */
interface Item {
  id: ObjectId;
  object: Record<string, unknown>;
  source: SourceLocation;
}

/** What collectManifests gathers across the files of one commit. */
interface Collection {
  readonly commit: string;
  readonly allowedNamespaces: string[] | undefined;
  readonly errors: ManifestError[];
  readonly items: Item[];
  /** Where each object (by objectKey) was first defined, to report duplicates. */
  readonly seen: Map<string, SourceLocation>;
  totalBytes: number;
  objectCount: number;
}

/** Whether to go on with the next file, or stop reading the commit (a commit-wide limit was hit). */
type Next = 'continue' | 'stop';

/** loadManifests without the file filter and without throwing; renderers feed it too. */
export function collectManifests(
  files: SourceFile[],
  opts: LoadOptions,
  renderedFiles: ReadonlySet<string> = new Set(),
): { manifests: Manifest[]; errors: ManifestError[] } {
  const baseLimits = resolveLimits(opts.limits);
  const renderedLimits = renderedFileLimits(baseLimits);
  const c: Collection = {
    commit: opts.commit,
    allowedNamespaces: opts.allowedNamespaces,
    errors: [],
    items: [],
    seen: new Map(),
    totalBytes: 0,
    objectCount: 0,
  };
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const file of sorted) {
    const limits = renderedFiles.has(file.path) ? renderedLimits : baseLimits;
    if (collectFile(c, file, limits) === 'stop') break;
  }

  injectConfigHashes(c.items);
  const manifests = c.items.map((item) => ({ ...item, digest: digestOf(item.object) }));
  return { manifests, errors: c.errors };
}

/**
 * A renderer's output is one file holding the whole app; the renderer's output cap and the
 * object limit bound it instead of the per-file limits.
 */
function renderedFileLimits(base: Limits): Limits {
  return { ...base, maxFileBytes: Infinity, maxDocumentsPerFile: base.maxObjects };
}

function collectFile(c: Collection, file: SourceFile, limits: Limits): Next {
  const size = file.content.byteLength;
  if (size > limits.maxFileBytes) {
    const detail = `the file is ${formatBytes(size)}, over the ${formatBytes(limits.maxFileBytes)} limit`;
    limitExceeded(c, fileStart(file.path), detail, 'split it into smaller files');
    return 'continue';
  }
  // Files skipped for their own size do not count toward the total.
  c.totalBytes += size;
  if (c.totalBytes > limits.maxTotalBytes) {
    const detail = `the manifests of this commit exceed ${formatBytes(limits.maxTotalBytes)} in total`;
    limitExceeded(c, fileStart(file.path), detail, 'split the app into several apps');
    return 'stop';
  }
  const text = decodeFile(c, file);
  if (text === undefined) return 'continue';
  const parsed = parseFile(file.path, text, { commit: c.commit, limits, json: /\.json$/i.test(file.path) });
  c.errors.push(...parsed.errors);
  for (const doc of parsed.documents) {
    if (collectDocument(c, parsed, doc, limits) === 'stop') return 'stop';
  }
  return 'continue';
}

function fileStart(file: string): SourceLocation {
  return { file, line: 1, column: 1 };
}

function limitExceeded(c: Collection, at: SourceLocation, detail: string, hint: string): void {
  c.errors.push(new LimitExceededError(at, c.commit, detail, { hint }));
}

/** The file's text, or undefined after reporting where it stops being UTF-8. */
function decodeFile(c: Collection, file: SourceFile): string | undefined {
  const decoded = decodeUtf8(file.content);
  if (!('badOffset' in decoded)) return decoded.text;
  const { line, column } = bytePosition(file.content, decoded.badOffset);
  c.errors.push(
    new EncodingError({ file: file.path, line, column }, c.commit, 'the file is not valid UTF-8', {
      hint: 'save the file as UTF-8',
    }),
  );
  return undefined;
}

/** The objects of one document: itself, or the items of a List. */
function collectDocument(c: Collection, parsed: ParsedFile, doc: ParsedDocument, limits: Limits): Next {
  const candidates: Candidate[] = [];
  flatten(parsed, doc.value, doc.root, doc.aliases, c.commit, candidates, c.errors);
  for (const candidate of candidates) {
    c.objectCount += 1;
    if (c.objectCount > limits.maxObjects) {
      const detail = `more than ${limits.maxObjects} objects in this commit`;
      limitExceeded(c, candidate.source, detail, 'split the app into several apps');
      return 'stop';
    }
    collectObject(c, parsed, doc, candidate);
  }
  return 'continue';
}

/**
 * Validates one object, reporting each problem at its place in the file, and keeps the object
 * when its identity is usable and not taken by an earlier one.
 */
function collectObject(c: Collection, parsed: ParsedFile, doc: ParsedDocument, candidate: Candidate): void {
  const object = candidate.value as Record<string, unknown>;
  const { id, problems } = validateObject(object, { allowedNamespaces: c.allowedNamespaces });
  for (const problem of problems) {
    const fullPath = [...candidate.path, ...problem.path];
    const at = parsed.locate(locateOffset(doc.root, doc.aliases, fullPath, { key: problem.key ?? false }));
    const Kind = problem.kind === 'namespace' ? NamespaceNotAllowedError : InvalidObjectError;
    c.errors.push(new Kind(at, c.commit, problem.detail, { hint: problem.hint }));
  }
  if (!id) return;
  const key = objectKey(id);
  const first = c.seen.get(key);
  if (first) {
    const detail = `${formatId(id)} is defined twice: here and at ${formatLocation(first)}`;
    c.errors.push(
      new DuplicateObjectError(candidate.source, c.commit, detail, {
        hint: 'keep one of the two definitions',
      }),
    );
    return;
  }
  c.seen.set(key, candidate.source);
  c.items.push({ id, object, source: candidate.source });
}

function describe(value: JsonValue): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return `a ${typeof value}`;
}

/** Collects the objects of a document: the document itself, or the items of a List kind. */
function flatten(
  parsed: ParsedFile,
  value: JsonValue,
  node: Node,
  aliases: AliasTargets,
  commit: string,
  out: Candidate[],
  errors: ManifestError[],
  path: PathSegment[] = [],
): void {
  const at = (p: PathSegment[]) => parsed.locate(locateOffset(node, aliases, p));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const where = path.length === 0 ? 'the document' : 'a List item';
    errors.push(
      new InvalidObjectError(
        at(path),
        commit,
        `${where} is ${describe(value)}, not a Kubernetes object (a mapping)`,
        {
          hint:
            path.length === 0
              ? 'each YAML document must be one object with apiVersion, kind and metadata'
              : 'each item of a List must be an object with apiVersion, kind and metadata',
        },
      ),
    );
    return;
  }
  const kind = value['kind'];
  const items = value['items'];
  const isList =
    kind === 'List' || (typeof kind === 'string' && kind.endsWith('List') && Array.isArray(items));
  if (!isList) {
    out.push({ value, path, source: at(path) });
    return;
  }
  if (items === undefined || items === null) return;
  if (!Array.isArray(items)) {
    errors.push(
      new InvalidObjectError(
        at([...path, 'items']),
        commit,
        `the items of this ${kind} are ${describe(items)}, not a list`,
        {
          hint: 'make items a list of objects',
        },
      ),
    );
    return;
  }
  items.forEach((item, i) =>
    flatten(parsed, item, node, aliases, commit, out, errors, [...path, 'items', i]),
  );
}
