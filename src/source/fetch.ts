// Makes a commit available in a remote source's bare cache: no lock and no request when it
// is already there; otherwise, under the cache lock, a shallow single-commit fetch, then
// housekeeping (rebuild into a fresh generation when packs piled up, drop retired ones).
import { listRefs, resolveRef, writeRef } from 'isomorphic-git';
import { rm } from 'node:fs/promises';
import {
  currentGeneration,
  lockPath,
  makeCurrent,
  needsRebuild,
  newGeneration,
  recordBaseline,
  removeRetired,
} from './cache.ts';
import { withCacheLock } from './lock.ts';
import { fetchInto, type RemoteContext } from './remote.ts';
import { closeStore, fs, hasObject, openStore, type ObjectStore } from './store.ts';

export interface EnsureOptions {
  /** Commits of history to fetch below `sha` (default 1: the commit alone). */
  depth?: number;
  /** Rebuild the cache when it holds more packs than this. */
  maxPacks?: number;
  /** Runs on the store right after a fetch, before a rebuild may drop the fetched history. */
  afterFetch?: (store: ObjectStore) => Promise<void>;
}

export async function ensureCommit(
  ctx: RemoteContext,
  sha: string,
  localRef: string | undefined,
  opts: EnsureOptions = {},
): Promise<ObjectStore> {
  const gen = await currentGeneration(ctx.cacheDir);
  if (gen) {
    const probe = openStore(gen);
    if (await hasObject(probe, sha)) {
      await opts.afterFetch?.(probe);
      return probe;
    }
    closeStore(probe);
  }
  return withCacheLock(lockPath(ctx.cacheDir), async () => {
    let current = await currentGeneration(ctx.cacheDir);
    if (!current) {
      current = await freshGeneration(ctx, [{ sha, ref: localRef }]);
      await opts.afterFetch?.(openStore(current));
    } else {
      const store = openStore(current);
      if (await hasObject(store, sha)) {
        // Another process fetched it meanwhile.
        await opts.afterFetch?.(store);
        return store;
      }
      try {
        await fetchInto(ctx, store, sha, localRef, opts.depth ?? 1);
        await opts.afterFetch?.(store);
        if (await needsRebuild(current, opts.maxPacks)) {
          current = await freshGeneration(ctx, [{ sha, ref: localRef }, ...(await tips(store))]);
        }
      } finally {
        closeStore(store);
      }
    }
    await removeRetired(ctx.cacheDir, current);
    return openStore(current);
  });
}

/** Fetches more history below `sha` (caller holds no lock). */
export async function deepen(
  ctx: RemoteContext,
  sha: string,
  localRef: string | undefined,
  depth: number,
): Promise<ObjectStore> {
  return withCacheLock(lockPath(ctx.cacheDir), async () => {
    const current =
      (await currentGeneration(ctx.cacheDir)) ?? (await freshGeneration(ctx, [{ sha, ref: localRef }]));
    const store = openStore(current);
    await fetchInto(ctx, store, sha, localRef, depth);
    return store;
  });
}

/** Branch and tag tips recorded in a generation, to carry over into a rebuilt one. */
async function tips(store: ObjectStore): Promise<{ sha: string; ref: string }[]> {
  const out: { sha: string; ref: string }[] = [];
  for (const prefix of ['refs/heads', 'refs/tags']) {
    for (const name of await listRefs({ fs, gitdir: store.gitdir, filepath: prefix })) {
      const ref = `${prefix}/${name}`;
      out.push({ ref, sha: await resolveRef({ fs, gitdir: store.gitdir, ref }) });
    }
  }
  return out;
}

/** A new generation with `wanted` fetched depth 1, made current (caller holds the lock). */
async function freshGeneration(
  ctx: RemoteContext,
  wanted: { sha: string; ref: string | undefined }[],
): Promise<string> {
  const gitdir = await newGeneration(ctx.cacheDir, ctx.target.url);
  try {
    const store = openStore(gitdir);
    const [first, ...rest] = wanted;
    if (first) await fetchInto(ctx, store, first.sha, first.ref, 1);
    for (const w of rest) {
      if (w.ref === undefined || w.ref === first?.ref) continue;
      if (await hasObject(store, w.sha)) {
        await writeRef({ fs, gitdir, ref: w.ref, value: w.sha, force: true });
        continue;
      }
      // Other refs tracked in this cache: carried over best-effort (a deleted branch is fine).
      await fetchInto(ctx, store, w.sha, w.ref, 1).catch(() => undefined);
    }
    closeStore(store);
    await recordBaseline(gitdir);
    await makeCurrent(ctx.cacheDir, gitdir);
    return gitdir;
  } catch (err) {
    await rm(gitdir, { recursive: true, force: true });
    throw err;
  }
}
