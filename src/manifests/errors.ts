import { TetherError } from '../errors.ts';
import { escapeName } from '../util/escape.ts';
import { shortSha } from '../util/sha.ts';
import type { SourceLocation } from './types.ts';

/** `path/file.yaml:LINE:COLUMN`, the file name escaped (see escapeName). */
export function formatLocation(loc: SourceLocation): string {
  return `${escapeName(loc.file)}:${loc.line}:${loc.column}`;
}

/**
 * One problem in one place of a commit. The message reads
 * `path/file.yaml:LINE:COLUMN (commit abc1234): what is wrong`; `hint` says what to do.
 * Subclasses name the kind of failure so callers can tell them apart. The message is one
 * line: control characters of the detail and hint (a file name, a renderer's output) are
 * escaped, so that nothing from the repository can drive a terminal or forge a line.
 */
export class ManifestError extends TetherError {
  readonly location: SourceLocation;
  readonly commit: string;
  /** The message without the location prefix. */
  readonly detail: string;
  constructor(
    location: SourceLocation,
    commit: string,
    detail: string,
    options: { hint: string; cause?: unknown },
  ) {
    const safeDetail = escapeName(detail);
    super(`${formatLocation(location)} (commit ${shortSha(commit)}): ${safeDetail}`, {
      ...options,
      hint: escapeName(options.hint),
    });
    this.location = location;
    this.commit = commit;
    this.detail = safeDetail;
  }
}

/** Malformed YAML or JSON. */
export class ManifestSyntaxError extends ManifestError {}
/** A file that is not valid UTF-8. */
export class EncodingError extends ManifestError {}
/** A file, commit or document over one of the limits. */
export class LimitExceededError extends ManifestError {}
/** The same key twice in one mapping. */
export class DuplicateKeyError extends ManifestError {}
/** A value JSON (or Kubernetes) cannot carry exactly: big integers, .inf, .nan, null keys. */
export class UnrepresentableValueError extends ManifestError {}
/** A document that is not a well-formed Kubernetes object. */
export class InvalidObjectError extends ManifestError {}
/** Two manifests for the same object. */
export class DuplicateObjectError extends ManifestError {}
/** An object naming a namespace the app may not write to. */
export class NamespaceNotAllowedError extends ManifestError {}
/** A malformed tether-render.yaml. */
export class RenderDeclarationError extends ManifestError {}
/** A renderer (kustomize or a command) that failed, timed out or printed too much. */
export class RenderError extends ManifestError {}
/**
 * What a kustomization or chart refers to that the renderer must not read: a path leaving
 * the repository, a remote base the app does not allow, a missing path, a chart dependency
 * that is not vendored. Found before the renderer starts.
 */
export class RenderReferenceError extends ManifestError {}

/** Errors listed beyond this many are summarized, so a broken repository cannot flood a log. */
const MAX_LISTED = 1_000;

/** Every error of one commit, reported together; nothing is applied when this is thrown. */
export class ManifestErrors extends TetherError {
  readonly errors: ManifestError[];
  readonly commit: string;
  constructor(commit: string, errors: ManifestError[]) {
    const sorted = [...errors].sort(compareErrors);
    const listed = sorted.slice(0, MAX_LISTED).map((e) => (e.hint ? `${e.message} (${e.hint})` : e.message));
    if (sorted.length > MAX_LISTED) listed.push(`... and ${sorted.length - MAX_LISTED} more`);
    const count = sorted.length === 1 ? '1 error' : `${sorted.length} errors`;
    super(`${count} in the manifests of commit ${shortSha(commit)}:\n${listed.join('\n')}`, {
      hint: 'fix the files named above and push a new commit; nothing was applied for this commit',
    });
    this.errors = sorted;
    this.commit = commit;
  }
}

function compareErrors(a: ManifestError, b: ManifestError): number {
  const fa = a.location.file;
  const fb = b.location.file;
  if (fa !== fb) return fa < fb ? -1 : 1;
  return a.location.line - b.location.line || a.location.column - b.location.column;
}
