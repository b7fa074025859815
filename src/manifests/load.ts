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
import type { ParsedFile } from './parse.ts';
import type { PathSegment } from './path.ts';
import type { AliasTargets } from './to-json.ts';
import type { JsonValue, LoadOptions, Manifest, ObjectId, SourceFile, SourceLocation } from './types.ts';
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
 * every problem found; returns objects sorted by file path, then position in the file.
 */
export function loadManifests(files: SourceFile[], opts: LoadOptions): Manifest[] {
  const { manifests, errors } = collectManifests(
    files.filter((f) => isManifestPath(f.path)),
    opts,
  );
  if (errors.length > 0) throw new ManifestErrors(opts.commit, errors);
  return manifests;
}

/** loadManifests without the file filter and without throwing; renderers feed it too. */
export function collectManifests(
  files: SourceFile[],
  opts: LoadOptions,
  renderedFiles: ReadonlySet<string> = new Set(),
): { manifests: Manifest[]; errors: ManifestError[] } {
  const baseLimits = resolveLimits(opts.limits);
  // A renderer's output is one file holding the whole app; the renderer's output cap and the
  // object limit bound it instead of the per-file limits.
  const renderedLimits = {
    ...baseLimits,
    maxFileBytes: Infinity,
    maxDocumentsPerFile: baseLimits.maxObjects,
  };
  const errors: ManifestError[] = [];
  const fileStart = (file: string): SourceLocation => ({ file, line: 1, column: 1 });
  const items: { id: ObjectId; object: Record<string, unknown>; source: SourceLocation }[] = [];
  const seen = new Map<string, SourceLocation>();
  let totalBytes = 0;
  let objectCount = 0;

  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  fileLoop: for (const file of sorted) {
    const limits = renderedFiles.has(file.path) ? renderedLimits : baseLimits;
    const size = file.content.byteLength;
    if (size > limits.maxFileBytes) {
      errors.push(
        new LimitExceededError(
          fileStart(file.path),
          opts.commit,
          `the file is ${formatBytes(size)}, over the ${formatBytes(limits.maxFileBytes)} limit`,
          {
            hint: 'split it into smaller files',
          },
        ),
      );
      continue;
    }
    totalBytes += size;
    if (totalBytes > limits.maxTotalBytes) {
      errors.push(
        new LimitExceededError(
          fileStart(file.path),
          opts.commit,
          `the manifests of this commit exceed ${formatBytes(limits.maxTotalBytes)} in total`,
          {
            hint: 'split the app into several apps',
          },
        ),
      );
      break;
    }
    const decoded = decodeUtf8(file.content);
    if ('badOffset' in decoded) {
      const { line, column } = bytePosition(file.content, decoded.badOffset);
      errors.push(
        new EncodingError({ file: file.path, line, column }, opts.commit, 'the file is not valid UTF-8', {
          hint: 'save the file as UTF-8',
        }),
      );
      continue;
    }
    const parsed = parseFile(file.path, decoded.text, {
      commit: opts.commit,
      limits,
      json: /\.json$/i.test(file.path),
    });
    errors.push(...parsed.errors);

    for (const doc of parsed.documents) {
      const candidates: Candidate[] = [];
      flatten(parsed, doc.value, doc.root, doc.aliases, opts.commit, candidates, errors);
      for (const candidate of candidates) {
        objectCount += 1;
        if (objectCount > limits.maxObjects) {
          errors.push(
            new LimitExceededError(
              candidate.source,
              opts.commit,
              `more than ${limits.maxObjects} objects in this commit`,
              {
                hint: 'split the app into several apps',
              },
            ),
          );
          break fileLoop;
        }
        const object = candidate.value as Record<string, unknown>;
        const { id, problems } = validateObject(object, { allowedNamespaces: opts.allowedNamespaces });
        for (const problem of problems) {
          const fullPath = [...candidate.path, ...problem.path];
          const at = parsed.locate(
            locateOffset(doc.root, doc.aliases, fullPath, { key: problem.key ?? false }),
          );
          const Kind = problem.kind === 'namespace' ? NamespaceNotAllowedError : InvalidObjectError;
          errors.push(new Kind(at, opts.commit, problem.detail, { hint: problem.hint }));
        }
        if (!id) continue;
        const key = objectKey(id);
        const first = seen.get(key);
        if (first) {
          errors.push(
            new DuplicateObjectError(
              candidate.source,
              opts.commit,
              `${formatId(id)} is defined twice: here and at ${formatLocation(first)}`,
              {
                hint: 'keep one of the two definitions',
              },
            ),
          );
          continue;
        }
        seen.set(key, candidate.source);
        items.push({ id, object, source: candidate.source });
      }
    }
  }

  injectConfigHashes(items);
  const manifests = items.map((item) => ({ ...item, digest: digestOf(item.object) }));
  return { manifests, errors };
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
