// The bare cache of one remote repository: <cacheDir>/<hash of URL>/ holds `current`, a
// symlink to the generation in use (a bare git dir, no worktree), and `lock`. isomorphic-git
// never repacks, so every fetch adds a pack; when a generation has too many packs or grew
// too much, a fresh shallow generation is fetched beside it and `current` is swapped to it
// atomically (rename of a symlink). Readers resolve `current` once per operation; retired
// generations are deleted after a grace period, so a reader in flight keeps its files.
import { createHash, randomBytes } from 'node:crypto';
import {
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { init, setConfig } from 'isomorphic-git';
import { fs } from './store.ts';

export const MAX_PACKS = 20;
/** Rebuild when the packs weigh this many times what a fresh shallow fetch weighed. */
export const GROWTH_FACTOR = 3;
const RETIRED_GRACE_MS = 10 * 60_000;
const BASELINE_FILE = 'tether-baseline-bytes';

export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TETHER_CACHE_DIR) return join(env.TETHER_CACHE_DIR, 'git');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tether', 'git');
}

/** The cache directory of one repository; `url` must carry no credentials. */
export function repoCacheDir(root: string | undefined, url: string): string {
  const key = createHash('sha256').update(url).digest('hex').slice(0, 20);
  return join(root ?? defaultCacheRoot(), key);
}

export function lockPath(dir: string): string {
  return join(dir, 'lock');
}

/** The generation in use, or undefined when the cache is empty. */
export async function currentGeneration(dir: string): Promise<string | undefined> {
  try {
    return join(dir, await readlink(join(dir, 'current')));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Creates an empty bare generation (call under the lock). */
export async function newGeneration(dir: string, url: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const gitdir = join(dir, `gen-${Date.now()}-${randomBytes(4).toString('hex')}`);
  await init({ fs, gitdir, bare: true });
  await setConfig({ fs, gitdir, path: 'remote.origin.url', value: url });
  await setConfig({ fs, gitdir, path: 'remote.origin.fetch', value: '+refs/heads/*:refs/remotes/origin/*' });
  return gitdir;
}

/** Points `current` at `gitdir` atomically (call under the lock). */
export async function makeCurrent(dir: string, gitdir: string): Promise<void> {
  const previous = await currentGeneration(dir);
  const tmp = join(dir, `current.tmp-${randomBytes(4).toString('hex')}`);
  await symlink(gitdir.slice(dir.length + 1), tmp);
  await rename(tmp, join(dir, 'current'));
  // Stamp the retirement time: the grace period of removeRetired counts from here.
  if (previous) await utimes(previous, new Date(), new Date()).catch(() => undefined);
}

export async function packStats(gitdir: string): Promise<{ packs: number; bytes: number }> {
  let packs = 0;
  let bytes = 0;
  const packDir = join(gitdir, 'objects', 'pack');
  let names: string[];
  try {
    names = await readdir(packDir);
  } catch {
    return { packs, bytes };
  }
  for (const name of names) {
    if (!name.endsWith('.pack')) continue;
    packs++;
    bytes += (await stat(join(packDir, name))).size;
  }
  return { packs, bytes };
}

export async function recordBaseline(gitdir: string): Promise<void> {
  const { bytes } = await packStats(gitdir);
  await writeFile(join(gitdir, BASELINE_FILE), String(bytes));
}

/** True when the generation should be replaced by a fresh shallow one. */
export async function needsRebuild(gitdir: string, maxPacks = MAX_PACKS): Promise<boolean> {
  const { packs, bytes } = await packStats(gitdir);
  if (packs > maxPacks) return true;
  const baseline = Number(await readFile(join(gitdir, BASELINE_FILE), 'utf8').catch(() => '0'));
  return baseline > 0 && bytes > GROWTH_FACTOR * Math.max(baseline, 1024 * 1024);
}

/** Deletes generations other than `keep` that were retired long enough ago (call under the lock). */
export async function removeRetired(dir: string, keep: string, graceMs = RETIRED_GRACE_MS): Promise<void> {
  for (const name of await readdir(dir)) {
    const full = join(dir, name);
    if (full === keep) continue;
    if (name.startsWith('current.tmp-')) {
      await rm(full, { force: true });
      continue;
    }
    if (!name.startsWith('gen-')) continue;
    const st = await stat(full).catch(() => undefined);
    // The retire time is when `current` stopped pointing here: the newest generation's birth.
    if (st && Date.now() - st.mtimeMs > graceMs) {
      await rm(full, { recursive: true, force: true });
    }
  }
}
