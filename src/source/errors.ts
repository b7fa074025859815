// One error class per failure kind of the source layer. Messages name the repository with
// credentials redacted (SourceError applies `redactUrl`), the ref or commit, and the file;
// hints say what to do. Nothing here ever carries a password or token.
import { redactUrl, TetherError } from '../errors.ts';
import { escapeName } from '../util/escape.ts';
import { shortSha } from '../util/sha.ts';

// Still exported here: src/source/index.ts re-exports this module.
export { shortSha };

/**
 * Base of every error raised by `src/source`. Its message and hint pass through redactUrl,
 * whichever URL they quote (the transport's URL keeps a `?token=` query, for one), and are
 * one line each: control characters (of a file or symlink name from the repository, of a
 * server's answer) are escaped, so that none can drive a terminal or forge a line.
 */
export class SourceError extends TetherError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(escapeName(redactUrl(message)), {
      ...options,
      ...(options?.hint === undefined ? {} : { hint: escapeName(redactUrl(options.hint)) }),
    });
  }
}

/** A SourceSpec that cannot work (bad URL, unreadable credentials file, bad option). */
export class InvalidSourceError extends SourceError {}

// --- transport ---------------------------------------------------------------------------

/** 401 or 403 from the server, or an ssh server refusing the key. */
export class AuthenticationError extends SourceError {}
/** 404 on the repository's URL. */
export class RepositoryNotFoundError extends SourceError {}
/** An ssh server whose host key is not in the known_hosts file, or differs from it. */
export class HostKeyError extends SourceError {
  readonly reason: 'unknown' | 'changed';
  constructor(reason: 'unknown' | 'changed', message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}
/** The host name does not resolve. */
export class DnsError extends SourceError {}
/** Nothing listens at host:port (server down). */
export class ConnectionRefusedError extends SourceError {}
/** The TLS handshake failed (unknown CA, bad certificate, host name mismatch). */
export class TlsError extends SourceError {}
/** A network call took longer than the source's timeout. */
export class GitTimeoutError extends SourceError {}
/** Any other socket-level failure (reset, unreachable network). */
export class NetworkError extends SourceError {}
/** The URL answers but is not a git smart-HTTP server (an HTML page, a dumb server). */
export class NotGitServerError extends SourceError {}
/** An HTTP status other than the ones above (5xx, 429...). */
export class HttpStatusError extends SourceError {
  readonly status: number;
  constructor(status: number, message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options);
    this.status = status;
  }
}
/** A response larger than the fetch limit (memory stays bounded). */
export class FetchTooLargeError extends SourceError {}
/** The server's answer does not follow the git protocol. */
export class ProtocolError extends SourceError {}

// --- refs and objects ----------------------------------------------------------------------

/** The repository exists but the ref does not. */
export class RefNotFoundError extends SourceError {}
/** A short name that is both a branch and a tag. */
export class AmbiguousRefError extends SourceError {}
/** A revision (HEAD~3, a short sha, main^2) that names no commit of the repository. */
export class RevisionNotFoundError extends RefNotFoundError {}
/** A short sha that starts the names of several commits. */
export class AmbiguousRevisionError extends SourceError {
  readonly candidates: { sha: string; subject: string }[];
  constructor(prefix: string, where: string, candidates: { sha: string; subject: string }[]) {
    const width = distinctWidth(candidates.map((c) => c.sha));
    super(
      `short sha ${prefix} is ambiguous in ${where}: ${candidates.length} commits start with it: ${candidates
        .map((c) => `${c.sha.slice(0, width)} (${c.subject})`)
        .join(', ')}`,
      { hint: `give more digits of the sha, e.g. ${candidates[0]?.sha.slice(0, width) ?? prefix}` },
    );
    this.candidates = candidates;
  }
}
/** A commit sha the repository does not have. */
export class CommitNotFoundError extends SourceError {}
/** A revision Tether cannot read (a range, a reflog entry, rev:path, bad syntax). */
export class InvalidRevisionError extends InvalidSourceError {}
/** A local path that is not a git repository. */
export class NotARepositoryError extends SourceError {}
/** The cache directory is locked by another process for too long. */
export class CacheLockedError extends SourceError {}

// --- reading --------------------------------------------------------------------------------

/** The requested path does not exist in the commit. */
export class PathNotFoundError extends SourceError {}
/** A symlink pointing at an absolute path or outside the repository. */
export class SymlinkEscapeError extends SourceError {}
/** A symlink whose target is missing, or a chain of links that loops. */
export class BrokenSymlinkError extends SourceError {}
/** A git submodule (gitlink) where the app's files are read: refused, never skipped. */
export class SubmoduleError extends SourceError {}

// --- signatures -------------------------------------------------------------------------------

export type SignatureFailure =
  'unsigned' | 'unknown-key' | 'bad-signature' | 'unsupported-algorithm' | 'no-keys';

/** A commit refused by a `verify: {mode: 'required'}` policy. */
export class SignatureError extends SourceError {
  readonly reason: SignatureFailure;
  readonly commit: string;
  constructor(
    commit: string,
    reason: SignatureFailure,
    detail: string,
    options?: { hint?: string; cause?: unknown },
  ) {
    super(`commit ${shortSha(commit)} refused: ${detail}`, options);
    this.reason = reason;
    this.commit = commit;
  }
}

// --- revert -----------------------------------------------------------------------------------

/** Files the reverted commit changed that later commits changed again; nothing was written. */
export class RevertConflictError extends SourceError {
  readonly paths: string[];
  constructor(commit: string, paths: string[]) {
    super(
      `cannot revert commit ${shortSha(commit)}: ${paths.length} file(s) changed again by later commits: ${paths.join(', ')}`,
      { hint: 'revert the later commits first, or write the change by hand; nothing was written' },
    );
    this.paths = paths;
  }
}
/** A merge commit reverted without a (valid) `mainline`, or `mainline` on a non-merge. */
export class MainlineError extends SourceError {}
/** The commit to revert is not in the tracked branch's history. */
export class CommitNotOnBranchError extends SourceError {}
/** The commit's changes are already undone on the branch. */
export class NothingToRevertError extends SourceError {}
/** The branch moved between reading it and pushing the revert (compare-and-swap failed). */
export class BranchMovedError extends SourceError {}
/** The server refused the push for another reason (hook, protection rule). */
export class PushRejectedError extends SourceError {}
/** No author for the revert commit (neither options nor GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL). */
export class MissingIdentityError extends SourceError {}

/** The shortest length, at least 7 (what Tether prints), at which the shas all differ. */
function distinctWidth(shas: string[]): number {
  for (let w = 7; w < 40; w++) if (new Set(shas.map((s) => s.slice(0, w))).size === shas.length) return w;
  return 40;
}
