// Which commit a revision expression (revision.ts) names in an object store: its base as a
// ref (resolve.ts's rules, looked up by the caller) or else as an abbreviated sha unique
// among the store's commits, then the chain of ~ and ^ walked through the parents. A remote
// source's cache is shallow, so for a remote the history the lookup needs is fetched deeper,
// step by step, below the tracked ref.
import { AmbiguousRevisionError, CommitNotFoundError, RevisionNotFoundError } from './errors.ts';
import { deepen, ensureCommit } from './fetch.ts';
import { lsRefs, type RemoteRef } from './ls-refs.ts';
import { localRefFor, lookupRemote, type RemoteContext } from './remote.ts';
import { isFullSha, refNotFound as refNotFoundPlain, type ResolvedRef } from './resolve.ts';
import { isShaPrefix, parseRevision, type Revision } from './revision.ts';
import { closeStore, parseCommit, type ObjectStore, type ParsedCommit } from './store.ts';
import { toSourceError } from './transport-errors.ts';
import { shortSha } from '../util/sha.ts';

/** Commits of history fetched below a remote tip, deeper each time, until a lookup succeeds. */
const DEEPEN_STEPS = [50, 500, 5_000, 0x7fffffff];

/** A commit the walk needs is not in the store (a shallow cache or clone ends above it). */
class MissingHistory extends Error {
  readonly sha: string;
  constructor(sha: string) {
    super(`commit ${sha} is not in the object store`);
    this.sha = sha;
  }
}

function subjectOf(c: ParsedCommit): string {
  return c.message.split('\n')[0] ?? '';
}

/** The commit `oid` is or points at (annotated tags peeled); undefined for a tree or blob. */
function peel(store: ObjectStore, oid: string): string | undefined {
  for (let hops = 0; hops < 10; hops++) {
    const o = store.objects.read(oid);
    if (!o) throw new MissingHistory(oid);
    if (o.type === 'commit') return oid;
    if (o.type !== 'tag') return undefined;
    const target = /^object ([0-9a-f]{40})$/m.exec(o.data.toString('utf8'))?.[1];
    if (!target) return undefined;
    oid = target;
  }
  return undefined;
}

function commitAt(store: ObjectStore, sha: string): ParsedCommit {
  const o = store.objects.read(sha);
  if (!o) throw new MissingHistory(sha);
  if (o.type !== 'commit') throw new CommitNotFoundError(`${shortSha(sha)} is a ${o.type}, not a commit`);
  return parseCommit(o.data);
}

/**
 * The one commit whose sha starts with `prefix` (tags pointing at commits count, as for git's
 * commit-ish lookups; trees and blobs do not); undefined when there is none.
 */
function commitByPrefix(store: ObjectStore, prefix: string, where: string): string | undefined {
  const commits = new Map<string, string>();
  for (const oid of store.objects.withPrefix(prefix.toLowerCase())) {
    const commit = peel(store, oid);
    if (commit !== undefined) commits.set(oid, commit);
  }
  const distinct = new Set(commits.values());
  if (distinct.size <= 1) return [...distinct][0];
  const candidates = [...commits.keys()].map((oid) => ({
    sha: oid,
    subject: subjectOf(commitAt(store, commits.get(oid)!)),
  }));
  throw new AmbiguousRevisionError(prefix, where, candidates);
}

function beyond(rev: Revision, sha: string, c: ParsedCommit, why: string): RevisionNotFoundError {
  return new RevisionNotFoundError(
    `revision ${rev.text} names no commit: ${shortSha(sha)} (${subjectOf(c)}) ${why}`,
    {
      hint: 'count along git log --oneline --graph; ~N follows first parents, ^N picks the N-th parent of a merge',
    },
  );
}

/** The commit reached from `start` by the revision's chain of ~ and ^. */
function walk(store: ObjectStore, start: string, rev: Revision): string {
  let sha = start;
  for (const step of rev.steps) {
    if (step.op === 'peel') continue; // the base is a commit already
    if (step.op === 'ancestor') {
      for (let i = 0; i < step.n; i++) {
        const c = commitAt(store, sha);
        const parent = c.parent[0];
        if (!parent) throw beyond(rev, sha, c, `is a root commit, ${i} generation(s) back`);
        sha = parent;
      }
    } else if (step.n > 0) {
      const c = commitAt(store, sha);
      const parent = c.parent[step.n - 1];
      if (!parent) throw beyond(rev, sha, c, `has ${c.parent.length} parent(s), not ${step.n}`);
      sha = parent;
    }
  }
  commitAt(store, sha); // the commit reached must be here too
  return sha;
}

/**
 * The commit `rev` names in `store`, starting from `base` (its base looked up as a ref) or,
 * when that found nothing, from the commit its base abbreviates. Undefined when the base names
 * nothing; throws MissingHistory when the store lacks a commit on the way.
 */
function resolveIn(
  store: ObjectStore,
  rev: Revision,
  base: ResolvedRef | undefined,
  where: string,
): ResolvedRef | undefined {
  let start = base?.sha;
  if (start !== undefined) {
    const commit = peel(store, start);
    if (commit === undefined) {
      throw new RevisionNotFoundError(`revision ${rev.text}: ${rev.base} is not a commit`, {
        hint: 'name a branch, tag or commit',
      });
    }
    start = commit;
  } else {
    if (!isShaPrefix(rev.base)) return undefined;
    start = commitByPrefix(store, rev.base, where);
    if (start === undefined) return undefined;
  }
  const sha = walk(store, start, rev);
  if (base && rev.steps.length === 0) return { ...base, sha };
  return { sha, ref: sha, kind: 'commit' };
}

/**
 * Deepens the cache's history below `tip` (DEEPEN_STEPS) until `attempt` gives an answer
 * without hitting missing history; with `wholeHistory`, fetches all of it first (a short sha
 * unique in part of the history may be ambiguous in the whole). Returns the answer (undefined
 * when even the whole history gave none) and the store it came from, which the caller closes.
 */
export async function deepenUntil<T>(
  ctx: RemoteContext,
  tip: ResolvedRef,
  attempt: (store: ObjectStore) => Promise<T | undefined>,
  wholeHistory = false,
): Promise<{ store: ObjectStore; value: T | undefined }> {
  const depths = wholeHistory ? DEEPEN_STEPS.slice(-1) : [undefined, ...DEEPEN_STEPS];
  let store: ObjectStore | undefined;
  try {
    for (const depth of depths) {
      if (store) closeStore(store);
      store =
        depth === undefined
          ? await ensureCommit(ctx, tip.sha, localRefFor(tip))
          : await deepen(ctx, tip.sha, localRefFor(tip), depth);
      try {
        const value = await attempt(store);
        if (value !== undefined) return { store, value };
      } catch (err) {
        if (!(err instanceof MissingHistory)) throw err;
      }
    }
    return { store: store!, value: undefined };
  } catch (err) {
    if (store) closeStore(store);
    throw err;
  }
}

/**
 * The commit `ref` names on a remote: a plain branch or tag with one ls-refs request as
 * before; a chain (HEAD~2, v1^) or a short sha after fetching the history it needs, the
 * latter searched in the history of `within` (default: the remote HEAD), then of the other
 * branches.
 */
export async function lookupRemoteRevision(
  ctx: RemoteContext,
  ref: string | undefined,
  within?: string,
): Promise<ResolvedRef | undefined> {
  if (ref === undefined || isFullSha(ref)) return lookupRemote(ctx, ref);
  const rev = parseRevision(ref);
  const base = await lookupRemote(ctx, rev.base);
  if (base && rev.steps.length === 0) return base;
  const tip = base ?? (isShaPrefix(rev.base) ? await lookupRemote(ctx, within) : undefined);
  if (!tip) return undefined;
  const where = ctx.target.url;
  const search = async (from: ResolvedRef): Promise<ResolvedRef | undefined> => {
    const { store, value } = await deepenUntil(
      ctx,
      from,
      (s) => Promise.resolve(resolveIn(s, rev, base, where)),
      base === undefined,
    );
    closeStore(store);
    return value;
  };
  const found = await search(tip);
  if (found) return found;
  if (base) throw new CommitNotFoundError(`revision ${ref}: ${where} did not send the history it needs`);
  // Not below the tracked ref: the other branches, fetched without recording them in the cache.
  for (const branch of await otherBranches(ctx, tip)) {
    const hit = await search({ sha: branch.oid, ref: branch.ref, kind: 'other' });
    if (hit) return hit;
  }
  throw new RevisionNotFoundError(
    `revision ${ref} not found in ${where}: no branch or tag of that name, and no commit whose sha starts with ${rev.base} in the fetched history of its branches`,
    { hint: 'give the full sha, or a tag that points at the commit' },
  );
}

async function otherBranches(ctx: RemoteContext, searched: ResolvedRef): Promise<RemoteRef[]> {
  try {
    const branches = await lsRefs(ctx.http, ctx.target, ['refs/heads/']);
    return branches.filter((b) => b.oid !== searched.sha);
  } catch (err) {
    throw toSourceError(err, ctx.target);
  }
}

/** lookupRemoteRevision, but a revision that names nothing is an error. */
export async function resolveRemoteRevision(
  ctx: RemoteContext,
  ref: string | undefined,
  within?: string,
): Promise<ResolvedRef> {
  const found = await lookupRemoteRevision(ctx, ref, within);
  if (!found) throw revisionNotFound(ref, ctx.target.url);
  return found;
}

/** resolveIn on a local repository: missing history there is a shallow clone, said so. */
export function resolveLocalRevision(
  store: ObjectStore,
  rev: Revision,
  base: ResolvedRef | undefined,
): ResolvedRef | undefined {
  try {
    return resolveIn(store, rev, base, store.gitdir);
  } catch (err) {
    if (!(err instanceof MissingHistory)) throw err;
    throw new CommitNotFoundError(
      `revision ${rev.text} needs commit ${shortSha(err.sha)}, which ${store.gitdir} does not have (a shallow clone?)`,
      { hint: 'fetch more history (git fetch --unshallow), or name a commit the repository has' },
    );
  }
}

/** Not found: for a plain name as before (resolve.ts), for a revision saying what was tried. */
export function revisionNotFound(ref: string | undefined, where: string): Error {
  if (ref === undefined || isFullSha(ref)) return refNotFoundPlain(ref, where);
  const rev = parseRevision(ref);
  if (rev.steps.length === 0 && !isShaPrefix(rev.base)) return refNotFoundPlain(ref, where);
  const sha = isShaPrefix(rev.base) ? `, and no commit whose sha starts with ${rev.base}` : '';
  return new RevisionNotFoundError(
    `revision ${ref} not found in ${where}: no branch or tag named ${rev.base}${sha}`,
    { hint: 'check the name or sha (git log --oneline --all lists the commits)' },
  );
}
