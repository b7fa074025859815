// `git revert` for one commit, at file level, as a new commit on the tracked branch.
// Three-way per file: for every path the commit changed (against its parent, or against
// the `mainline` parent of a merge), if the branch tip still has the commit's version, the
// parent's version is restored; if the tip already has the parent's version, nothing is
// needed; anything else means a later commit changed the file again: a conflict. Conflicts
// are all reported and nothing is written. The push is a compare-and-swap: it only lands if
// the branch still points at the tip the revert was computed on.
import {
  deleteRef,
  push,
  resolveRef,
  writeCommit,
  writeRef,
  writeTree,
  type TreeEntry,
} from 'isomorphic-git';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isRemote, scrub } from './credentials.ts';
import {
  BranchMovedError,
  CommitNotOnBranchError,
  InvalidSourceError,
  MainlineError,
  MissingIdentityError,
  NothingToRevertError,
  PushRejectedError,
  RevertConflictError,
} from './errors.ts';
import { shortSha } from '../util/sha.ts';
import { callRemote, configIdentity, descendsFrom, worktreeWithBranch } from './git-calls.ts';
import { lookupLocal, resolveLocal } from './local.ts';
import { remoteContext, resolveRemote, type RemoteContext } from './remote.ts';
import type { ResolvedRef } from './resolve.ts';
import { deepenUntil, resolveRemoteRevision, revisionNotFound } from './rev-resolve.ts';
import { parseRevision } from './revision.ts';
import { checkSpec } from './snapshot.ts';
import { closeStore, fs, hasObject, readCommitObject, treeEntries, type ObjectStore } from './store.ts';
import { withCacheLock } from './lock.ts';
import { lockPath } from './cache.ts';
import type { RevertAction, RevertOptions, RevertResult, SourceSpec } from './types.ts';

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const TEMP_REF = 'refs/tether/revert';

interface Leaf {
  oid: string;
  mode: string;
}

interface Identity {
  name: string;
  email: string;
}

function sameLeaf(a: Leaf | undefined, b: Leaf | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.oid === b.oid && a.mode === b.mode);
}

/** Paths where trees `a` and `b` differ, with the leaf (blob, link, gitlink) on each side. */
async function diffTrees(
  store: ObjectStore,
  a: string | undefined,
  b: string | undefined,
  prefix = '',
  out: { path: string; before: Leaf | undefined; after: Leaf | undefined }[] = [],
): Promise<{ path: string; before: Leaf | undefined; after: Leaf | undefined }[]> {
  if (a === b) return out;
  const left = new Map((a ? await treeEntries(store, a) : []).map((e) => [e.path, e]));
  const right = new Map((b ? await treeEntries(store, b) : []).map((e) => [e.path, e]));
  for (const name of new Set([...left.keys(), ...right.keys()])) {
    const l = left.get(name);
    const r = right.get(name);
    const path = prefix + name;
    const lTree = l?.type === 'tree' ? l.oid : undefined;
    const rTree = r?.type === 'tree' ? r.oid : undefined;
    const lLeaf = l && l.type !== 'tree' ? { oid: l.oid, mode: l.mode } : undefined;
    const rLeaf = r && r.type !== 'tree' ? { oid: r.oid, mode: r.mode } : undefined;
    if (!sameLeaf(lLeaf, rLeaf)) out.push({ path, before: lLeaf, after: rLeaf });
    if (lTree !== rTree) await diffTrees(store, lTree, rTree, `${path}/`, out);
  }
  return out;
}

/** The leaf at `path` in tree `root` (undefined if absent or a directory). */
async function leafAt(store: ObjectStore, root: string, path: string): Promise<Leaf | undefined> {
  const parts = path.split('/');
  let tree = root;
  for (let i = 0; i < parts.length; i++) {
    const e = (await treeEntries(store, tree)).find((x) => x.path === parts[i]);
    if (!e) return undefined;
    if (i === parts.length - 1) return e.type === 'tree' ? undefined : { oid: e.oid, mode: e.mode };
    if (e.type !== 'tree') return undefined;
    tree = e.oid;
  }
  return undefined;
}

/** A directory exists at `path` in `root` (a file cannot be restored over it). */
async function isDirAt(store: ObjectStore, root: string, path: string): Promise<boolean> {
  let tree = root;
  for (const part of path.split('/')) {
    const e = (await treeEntries(store, tree)).find((x) => x.path === part);
    if (!e || e.type !== 'tree') return false;
    tree = e.oid;
  }
  return true;
}

function typeOf(mode: string): TreeEntry['type'] {
  return mode === '040000' ? 'tree' : mode === '160000' ? 'commit' : 'blob';
}

/** Writes `root` with `edits` applied (undefined deletes); returns the new tree oid. */
async function applyEdits(
  store: ObjectStore,
  root: string | undefined,
  edits: Map<string, Leaf | undefined>,
): Promise<string | undefined> {
  const entries = new Map((root ? await treeEntries(store, root) : []).map((e) => [e.path, e]));
  const sub = new Map<string, Map<string, Leaf | undefined>>();
  for (const [path, leaf] of edits) {
    const slash = path.indexOf('/');
    if (slash < 0) {
      if (leaf) entries.set(path, { path, oid: leaf.oid, mode: leaf.mode, type: typeOf(leaf.mode) });
      else entries.delete(path);
      continue;
    }
    const head = path.slice(0, slash);
    let m = sub.get(head);
    if (!m) sub.set(head, (m = new Map<string, Leaf | undefined>()));
    m.set(path.slice(slash + 1), leaf);
  }
  for (const [name, inner] of sub) {
    const existing = entries.get(name);
    const oid = await applyEdits(store, existing?.type === 'tree' ? existing.oid : undefined, inner);
    if (oid) entries.set(name, { path: name, oid, mode: '040000', type: 'tree' });
    else entries.delete(name);
  }
  if (entries.size === 0) return undefined;
  return writeTree({ fs, gitdir: store.gitdir, tree: [...entries.values()] });
}

/**
 * Who the revert is by, as git decides it: what the caller gave, else the environment
 * (`nameVar`/`emailVar`), else user.name and user.email from git config, else `fallback`.
 */
function identity(
  given: Identity | undefined,
  nameVar: string,
  emailVar: string,
  configured: Identity | undefined,
  fallback?: Identity,
): Identity {
  if (given) return given;
  const name = process.env[nameVar];
  const email = process.env[emailVar];
  if (name && email) return { name, email };
  if (configured) return configured;
  if (fallback) return fallback;
  throw new MissingIdentityError('no author for the revert commit', {
    hint: `pass an author, set user.name and user.email in git config (git config --global user.name "Jane Doe"), or set ${nameVar} and ${emailVar}`,
  });
}

/**
 * Refuses a push to a local repository whose checked-out branch is `ref`, as git's
 * receive.denyCurrentBranch does: moving the branch under a worktree leaves its files and
 * index at the old tree, and the next commit there silently undoes the revert.
 */
async function refuseCheckedOut(repo: string, gitdir: string, ref: string): Promise<void> {
  const worktree = await worktreeWithBranch(gitdir, ref);
  if (worktree === undefined) return;
  const name = ref.replace(/^refs\/heads\//, '');
  throw new PushRejectedError(
    `refusing to update the checked-out branch ${name} of ${repo} (worktree ${worktree}): its files and index would stay at the old tree`,
    {
      hint: `push to a bare repository or another branch (--ref), or check out another branch in ${worktree}; or run without --push and merge the revert there (git merge --ff-only <sha>)`,
    },
  );
}

function revertMessage(subject: string, sha: string, mainlineParent: string | undefined): string {
  const tail = mainlineParent ? `, reversing\nchanges made to ${mainlineParent}` : '';
  return `Revert "${subject}"\n\nThis reverts commit ${sha}${tail}.\n`;
}

async function onBranch(store: ObjectStore, tip: string, sha: string): Promise<boolean> {
  return tip === sha || (await descendsFrom(store, tip, sha));
}

/** Object store with the branch tip, `sha` and `sha`'s parents, deepening the cache as needed. */
async function historyFor(ctx: RemoteContext, branch: ResolvedRef, sha: string): Promise<ObjectStore> {
  const ready = async (store: ObjectStore): Promise<true | undefined> => {
    if (!(await hasObject(store, sha)) || !(await onBranch(store, branch.sha, sha))) return undefined;
    const c = await readCommitObject(store, sha);
    for (const p of c.parent) if (!(await hasObject(store, p))) return undefined;
    return true;
  };
  const { store, value } = await deepenUntil(ctx, branch, ready);
  if (value) return store;
  closeStore(store);
  throw new CommitNotOnBranchError(`commit ${shortSha(sha)} is not in the history of ${branch.ref}`, {
    hint: 'revert only commits of the tracked branch',
  });
}

/** Moves a local branch from `expected` to `next`, like git does: under `<ref>.lock`. */
async function updateLocalRef(gitdir: string, ref: string, expected: string, next: string): Promise<void> {
  const path = join(gitdir, ref);
  const lock = `${path}.lock`;
  let fh;
  try {
    fh = await open(lock, 'wx');
  } catch {
    throw new BranchMovedError(`${ref} is being updated by another process`, { hint: 'retry the revert' });
  }
  try {
    const now = await resolveRef({ fs, gitdir, ref });
    if (now !== expected) {
      throw new BranchMovedError(
        `${ref} moved from ${shortSha(expected)} to ${shortSha(now)} during the revert`,
        {
          hint: 'retry the revert on the new tip',
        },
      );
    }
    await fh.writeFile(`${next}\n`);
    await fh.close();
    fh = undefined;
    await rename(lock, path);
  } finally {
    if (fh) {
      await fh.close();
      await unlink(lock).catch(() => undefined);
    }
  }
}

/**
 * Creates the revert of the commit `revision` names (a full or short sha, HEAD~N, a tag:
 * revision.ts) on top of the source's tracked branch and (with `push: true`) pushes it with
 * a compare-and-swap. Throws RevertConflictError (nothing written) when later commits
 * changed the same files.
 */
export async function revertCommit(
  spec: SourceSpec,
  revision: string,
  opts: RevertOptions,
): Promise<RevertResult> {
  checkSpec(spec);
  parseRevision(revision); // a syntax error before any request
  if (opts.mainline !== undefined && !(Number.isInteger(opts.mainline) && opts.mainline >= 1)) {
    throw new MainlineError(`mainline must be a parent number (1, 2, ...), got ${opts.mainline}`);
  }
  const remote = isRemote(spec.repo) ? remoteContext(spec) : undefined;
  let branch: ResolvedRef;
  let store: ObjectStore;
  if (remote) {
    branch = await resolveRemote(remote, spec.ref);
  } else {
    const local = await resolveLocal(spec.repo, spec.ref);
    branch = local.resolved;
    store = local.store;
  }
  if (branch.kind !== 'branch') {
    throw new InvalidSourceError(`cannot revert on ${branch.ref}: the source must track a branch`, {
      hint: 'set ref to the branch the revert should land on',
    });
  }
  if (!remote && opts.push) {
    try {
      await refuseCheckedOut(spec.repo, store!.gitdir, branch.ref);
    } catch (err) {
      closeStore(store!);
      throw err;
    }
  }
  let sha: string;
  if (remote) {
    sha = (await resolveRemoteRevision(remote, revision, branch.ref)).sha;
    store = await historyFor(remote, branch, sha);
  } else {
    const target = await lookupLocal(store!, revision).catch((err: unknown) => {
      closeStore(store);
      throw err;
    });
    if (!target) {
      closeStore(store!);
      throw revisionNotFound(revision, spec.repo);
    }
    sha = target.sha;
  }
  if (!remote && !(await onBranch(store!, branch.sha, sha))) {
    throw new CommitNotOnBranchError(`commit ${shortSha(sha)} is not in the history of ${branch.ref}`, {
      hint: 'revert only commits of the tracked branch',
    });
  }
  const st = store!;
  try {
    const commit = await readCommitObject(st, sha);
    const parents = commit.parent;
    if (parents.length > 1 && opts.mainline === undefined) {
      throw new MainlineError(`commit ${shortSha(sha)} is a merge: say which parent is the mainline`, {
        hint: `pass mainline (1 to ${parents.length}); 1 is usually the branch merged into`,
      });
    }
    if (parents.length <= 1 && opts.mainline !== undefined) {
      throw new MainlineError(`commit ${shortSha(sha)} is not a merge, but a mainline was given`);
    }
    const parentSha = parents.length === 0 ? undefined : parents[(opts.mainline ?? 1) - 1];
    if (parents.length > 1 && parentSha === undefined) {
      throw new MainlineError(`commit ${shortSha(sha)} has ${parents.length} parents, not ${opts.mainline}`);
    }
    const parentTree = parentSha ? (await readCommitObject(st, parentSha)).tree : EMPTY_TREE;
    const tipTree = (await readCommitObject(st, branch.sha)).tree;

    const edits = new Map<string, Leaf | undefined>();
    const files: { path: string; action: RevertAction }[] = [];
    const conflicts: string[] = [];
    for (const change of await diffTrees(st, parentTree, commit.tree)) {
      const now = await leafAt(st, tipTree, change.path);
      if (
        sameLeaf(now, change.before) &&
        !(change.before === undefined && (await isDirAt(st, tipTree, change.path)))
      ) {
        continue; // already as before the commit
      }
      if (
        !sameLeaf(now, change.after) ||
        (change.before && (await blockedByFile(st, tipTree, change.path)))
      ) {
        conflicts.push(change.path);
        continue;
      }
      edits.set(change.path, change.before);
      files.push({
        path: change.path,
        action: !change.before ? 'deleted' : !change.after ? 'added' : 'modified',
      });
    }
    if (conflicts.length > 0) throw new RevertConflictError(sha, conflicts.sort());
    if (edits.size === 0) {
      throw new NothingToRevertError(
        `the changes of commit ${shortSha(sha)} are already undone on ${branch.ref}`,
      );
    }

    // A local repository's own config counts; a remote's cache has none of the user's.
    const configured = await configIdentity(remote ? undefined : st.gitdir);
    const author = identity(opts.author, 'GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', configured);
    const committer = identity(
      opts.committer,
      'GIT_COMMITTER_NAME',
      'GIT_COMMITTER_EMAIL',
      configured,
      author,
    );
    const now = Math.floor(Date.now() / 1000);
    const tz = new Date().getTimezoneOffset();
    const subject = commit.message.split('\n')[0] ?? '';

    const write = async (): Promise<string> => {
      const tree =
        (await applyEdits(st, tipTree, edits)) ?? (await writeTree({ fs, gitdir: st.gitdir, tree: [] }));
      return writeCommit({
        fs,
        gitdir: st.gitdir,
        commit: {
          message: revertMessage(subject, sha, parents.length > 1 ? parentSha : undefined),
          tree,
          parent: [branch.sha],
          author: { ...author, timestamp: now, timezoneOffset: tz },
          committer: { ...committer, timestamp: now, timezoneOffset: tz },
        },
      });
    };
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

    if (!remote) {
      const newSha = await write();
      if (opts.push) await updateLocalRef(st.gitdir, branch.ref, branch.sha, newSha);
      return { sha: newSha, revertOf: sha, files, pushed: opts.push };
    }
    return withCacheLock(lockPath(remote.cacheDir), async () => {
      const newSha = await write();
      if (!opts.push) return { sha: newSha, revertOf: sha, files, pushed: false };
      await pushCas(remote, st, branch, newSha);
      await writeRef({ fs, gitdir: st.gitdir, ref: branch.ref, value: newSha, force: true });
      return { sha: newSha, revertOf: sha, files, pushed: true };
    });
  } finally {
    closeStore(st);
  }
}

/** Restoring a file where the tip has a file as one of its parent directories. */
async function blockedByFile(store: ObjectStore, root: string, path: string): Promise<boolean> {
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    if (await leafAt(store, root, parts.slice(0, i).join('/'))) return true;
  }
  return false;
}

async function pushCas(
  ctx: RemoteContext,
  store: ObjectStore,
  branch: ResolvedRef,
  newSha: string,
): Promise<void> {
  await writeRef({ fs, gitdir: store.gitdir, ref: TEMP_REF, value: newSha, force: true });
  let movedTo: string | undefined;
  const moved = (to: string | undefined): BranchMovedError =>
    new BranchMovedError(
      `${branch.ref} moved${to ? ` to ${shortSha(to)}` : ''} since ${shortSha(branch.sha)}; the revert was not pushed`,
      { hint: 'run the revert again on the new tip' },
    );
  try {
    const result = await callRemote(
      ctx,
      store,
      (args) =>
        push({
          ...args,
          ref: TEMP_REF,
          remoteRef: branch.ref,
          // The server's old value must be exactly the tip we computed on; receive-pack then
          // updates the ref atomically from that old value, so a move in between fails too.
          onPrePush: ({ remoteRef }) => {
            if (remoteRef.oid === branch.sha) return true;
            movedTo = remoteRef.oid;
            return false;
          },
        }),
      // The branch moved: onPrePush saw it (UserCanceledError), or the server refused the update.
      (err, raw) => {
        if (movedTo !== undefined) return moved(movedTo);
        const code = (raw as { code?: string }).code;
        return code === 'UserCanceledError' || code === 'PushRejectedError' ? moved(undefined) : err;
      },
    );
    const status = result.refs[branch.ref];
    if (!result.ok || (status && !status.ok)) {
      const why = scrub(status?.error ?? result.error ?? 'rejected', ctx.target.credentials);
      if (/fetch first|non-fast-forward|stale|lock|failed to update|reference already exists/i.test(why))
        throw moved(undefined);
      throw new PushRejectedError(`the server refused the revert push to ${branch.ref}: ${why}`, {
        hint: 'check branch protection rules and the token’s write permission',
      });
    }
  } finally {
    await deleteRef({ fs, gitdir: store.gitdir, ref: TEMP_REF }).catch(() => undefined);
  }
}
