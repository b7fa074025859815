// Local sources: a path to a repository on disk, read in place with no transport. Works on
// bare repositories and on worktrees (gitdir `<path>/.git`, or the `gitdir:` a `.git` file
// names); refs may be loose or packed.
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { readObject, resolveRef } from 'isomorphic-git';
import { NotARepositoryError } from './errors.ts';
import type { RemoteRef } from './ls-refs.ts';
import { isFullSha, pickRef, refPrefixes, type ResolvedRef } from './resolve.ts';
import { resolveLocalRevision, revisionNotFound } from './rev-resolve.ts';
import { parseRevision } from './revision.ts';
import { fs, hasObject, openStore, type ObjectStore } from './store.ts';
import { CommitNotFoundError } from './errors.ts';

async function isDir(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

async function looksLikeGitdir(path: string): Promise<boolean> {
  return (
    (await isDir(join(path, 'objects'))) &&
    (await stat(join(path, 'HEAD')).catch(() => undefined)) !== undefined
  );
}

/** The gitdir of the repository at `path`. */
export async function findGitdir(path: string): Promise<string> {
  const root = resolvePath(path);
  const dotGit = join(root, '.git');
  const st = await stat(dotGit).catch(() => undefined);
  if (st?.isDirectory() && (await looksLikeGitdir(dotGit))) return dotGit;
  if (st?.isFile()) {
    const m = /^gitdir:\s*(.+?)\s*$/m.exec(await readFile(dotGit, 'utf8'));
    if (m?.[1]) {
      const gitdir = isAbsolute(m[1]) ? m[1] : resolvePath(root, m[1]);
      if (await looksLikeGitdir(gitdir)) return gitdir;
    }
  }
  if (await looksLikeGitdir(root)) return root;
  throw new NotARepositoryError(
    `${path} is not a git repository (no .git directory, not a bare repository)`,
    {
      hint: 'give the path of a git repository, or an http(s):// URL',
    },
  );
}

/** Peels annotated tags down to what they point at. */
async function peel(store: ObjectStore, oid: string): Promise<string> {
  for (let i = 0; i < 10; i++) {
    const o = await readObject({ fs, gitdir: store.gitdir, cache: store.cache, oid, format: 'parsed' });
    if (o.format !== 'parsed' || o.type !== 'tag') return oid;
    oid = o.object.object;
  }
  return oid;
}

/** The same ref list ls-refs would give, read from disk. */
async function localRefs(store: ObjectStore, ref: string | undefined): Promise<RemoteRef[]> {
  const out: RemoteRef[] = [];
  for (const name of refPrefixes(ref)) {
    let oid: string;
    try {
      oid = await resolveRef({ fs, gitdir: store.gitdir, ref: name });
    } catch {
      continue;
    }
    const r: RemoteRef = { ref: name, oid };
    if (name === 'HEAD') {
      const head = await readFile(join(store.gitdir, 'HEAD'), 'utf8');
      const m = /^ref:\s*(\S+)/.exec(head);
      if (m?.[1]) r.target = m[1];
    } else {
      const peeled = await peel(store, oid);
      if (peeled !== oid) r.peeled = peeled;
    }
    out.push(r);
  }
  return out;
}

export async function lookupLocal(
  store: ObjectStore,
  ref: string | undefined,
): Promise<ResolvedRef | undefined> {
  if (ref !== undefined && isFullSha(ref)) {
    if (!(await hasObject(store, ref))) {
      throw new CommitNotFoundError(`commit ${ref} not found in ${store.gitdir}`, { hint: 'check the sha' });
    }
    return { sha: ref, ref, kind: 'commit' };
  }
  if (ref === undefined) return pickRef(await localRefs(store, ref), ref);
  // A revision: its base as a ref, else as a short sha; then its chain of ~ and ^.
  const rev = parseRevision(ref);
  const base = pickRef(await localRefs(store, rev.base), rev.base);
  if (base && rev.steps.length === 0) return base;
  return resolveLocalRevision(store, rev, base);
}

export async function resolveLocal(
  path: string,
  ref: string | undefined,
): Promise<{ store: ObjectStore; resolved: ResolvedRef }> {
  const store = openStore(await findGitdir(path));
  const resolved = await lookupLocal(store, ref);
  if (!resolved) throw revisionNotFound(ref, path);
  return { store, resolved };
}
