// The core entry points: which commit a source's ref names, and the files of a commit.
import { redactUrl } from '../errors.ts';
import { isRemote, isUnsupportedUrl } from './credentials.ts';
import { InvalidSourceError } from './errors.ts';
import { ensureCommit } from './fetch.ts';
import { findGitdir, resolveLocal } from './local.ts';
import { readFiles } from './read-tree.ts';
import { localRefFor, remoteContext } from './remote.ts';
import { resolveRemoteRevision } from './rev-resolve.ts';
import { isFullSha, type ResolvedRef } from './resolve.ts';
import { closeStore, commitInfo, hasObject, openStore, type ObjectStore } from './store.ts';
import type { ReadOptions, Snapshot, SourceSpec } from './types.ts';
import { verifyCommit } from './verify.ts';
import { CommitNotFoundError } from './errors.ts';

export function checkSpec(spec: SourceSpec): void {
  if (typeof spec?.repo !== 'string' || spec.repo.trim() === '') {
    throw new InvalidSourceError('source repository is empty', {
      hint: 'set repo to an https:// or ssh:// URL, or a local path',
    });
  }
  if (isUnsupportedUrl(spec.repo)) {
    throw new InvalidSourceError(
      `unsupported repository URL ${redactUrl(spec.repo)}: only http(s)://, ssh:// (or user@host:path) and local paths`,
      {
        hint: 'use the https:// or ssh clone URL of the repository (git:// and file:// are not supported; give a local repository as a path)',
      },
    );
  }
  if (spec.timeoutMs !== undefined && !(spec.timeoutMs > 0)) {
    throw new InvalidSourceError(`timeoutMs must be positive, got ${spec.timeoutMs}`);
  }
}

/** Repository URL (credentials redacted) or path, plus the ref, for messages. */
export function describeSource(spec: SourceSpec): string {
  let where = spec.repo;
  if (isRemote(spec.repo)) {
    try {
      const u = new URL(spec.repo);
      u.username = '';
      u.password = '';
      where = redactUrl(u.toString());
    } catch {
      where = redactUrl(spec.repo);
    }
  }
  return `${where}${spec.ref ? `@${spec.ref}` : ''}`;
}

/** The commit the source's ref points at now: one ref request for a remote, none for a sha. */
export async function resolveCommit(spec: SourceSpec): Promise<{ sha: string; ref: string }> {
  checkSpec(spec);
  const r = isRemote(spec.repo)
    ? await resolveRemoteRevision(remoteContext(spec), spec.ref)
    : (await resolveLocal(spec.repo, spec.ref)).resolved;
  return { sha: r.sha, ref: r.ref };
}

/** Object store holding `sha` (fetching it into the cache if needed). */
export async function storeWith(spec: SourceSpec, sha: string, resolved?: ResolvedRef): Promise<ObjectStore> {
  if (!isRemote(spec.repo)) {
    const store = openStore(await findGitdir(spec.repo));
    if (!(await hasObject(store, sha))) {
      closeStore(store);
      throw new CommitNotFoundError(`commit ${sha} not found in ${spec.repo}`, { hint: 'check the sha' });
    }
    return store;
  }
  const ctx = remoteContext(spec);
  return ensureCommit(ctx, sha, resolved ? localRefFor(resolved) : undefined);
}

/**
 * The files of the commit the source's ref points at (or of `opts.sha`), under `opts.path`,
 * filtered by globs, with the commit's metadata. Verifies the commit's signature first when
 * the source requires it.
 */
export async function readSnapshot(spec: SourceSpec, opts: ReadOptions = {}): Promise<Snapshot> {
  checkSpec(spec);
  let sha: string;
  let resolved: ResolvedRef | undefined;
  if (opts.sha !== undefined) {
    if (!isFullSha(opts.sha)) {
      throw new InvalidSourceError(`sha must be a full 40-character commit id, got ${opts.sha}`);
    }
    sha = opts.sha;
  } else if (isRemote(spec.repo)) {
    resolved = await resolveRemoteRevision(remoteContext(spec), spec.ref);
    sha = resolved.sha;
  } else {
    resolved = (await resolveLocal(spec.repo, spec.ref)).resolved;
    sha = resolved.sha;
  }
  const store = await storeWith(spec, sha, resolved);
  return readSnapshotFrom(store, sha, spec, opts);
}

export async function readSnapshotFrom(
  store: ObjectStore,
  sha: string,
  spec: SourceSpec,
  opts: ReadOptions,
): Promise<Snapshot> {
  try {
    if (spec.verify?.mode === 'required') await verifyCommit(store, sha, spec.verify);
    const commit = await commitInfo(store, sha);
    const files = await readFiles(store, sha, opts);
    return { commit, files };
  } finally {
    closeStore(store);
  }
}
